/**
 * .gitignore-style matching for packing working directories: patterns from `excludes` and from every .gitignore
 * found while walking (each applies below its own directory), with git's rules for `!`, a trailing `/`
 * (directories only), a leading or inner `/` (anchored), `*`, `?`, `[...]` and `**`.
 */

interface Rule {
  readonly regex: RegExp;
  readonly negate: boolean;
  readonly dirOnly: boolean;
  /** Directory (relative, '' for the root) that the rule is relative to. */
  readonly base: string;
}

export class IgnoreRules {
  private readonly rules: Rule[] = [];

  /** Adds the lines of a .gitignore (or a list of exclude patterns) found in directory `base`. */
  add(lines: readonly string[] | string, base = ''): void {
    const list = typeof lines === 'string' ? lines.split(/\r?\n/) : lines;
    for (const raw of list) {
      let line = raw.replace(/(?<!\\)\s+$/, '');
      if (line === '' || line.startsWith('#')) continue;
      let negate = false;
      if (line.startsWith('!')) {
        negate = true;
        line = line.slice(1);
      } else if (line.startsWith('\\!') || line.startsWith('\\#')) {
        line = line.slice(1);
      }
      let dirOnly = false;
      if (line.endsWith('/')) {
        dirOnly = true;
        line = line.slice(0, -1);
      }
      // A slash at the start or in the middle anchors the pattern to `base`; otherwise it matches at any depth.
      const anchored = line.includes('/');
      if (line.startsWith('/')) line = line.slice(1);
      if (line === '') continue;
      const body = globToRegex(line);
      const regex = new RegExp(anchored ? `^${body}$` : `^(?:.*/)?${body}$`);
      this.rules.push({ regex, negate, dirOnly, base });
    }
  }

  /** True when `path` (relative to the root, '/'-separated) is ignored. The last matching rule wins. */
  ignores(path: string, isDir: boolean): boolean {
    let ignored = false;
    for (const rule of this.rules) {
      if (rule.dirOnly && !isDir) continue;
      let rel = path;
      if (rule.base) {
        if (!path.startsWith(`${rule.base}/`)) continue;
        rel = path.slice(rule.base.length + 1);
      }
      if (rule.regex.test(rel)) ignored = !rule.negate;
    }
    return ignored;
  }
}

function globToRegex(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const atStart = i === 0 || glob[i - 1] === '/';
        const atEnd = i + 2 === glob.length || glob[i + 2] === '/';
        if (atStart && atEnd) {
          // "**/" matches zero or more directories; a final "/**" matches everything inside.
          if (i + 2 === glob.length) out += '.*';
          else {
            out += '(?:.*/)?';
            i++; // skip the slash after **
          }
          i++;
          continue;
        }
      }
      out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) out += '\\[';
      else {
        let cls = glob.slice(i + 1, close);
        if (cls.startsWith('!')) cls = `^${cls.slice(1)}`;
        out += `[${cls.replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else if (c === '\\' && i + 1 < glob.length) {
      out += escapeRegex(glob[++i]!);
    } else out += escapeRegex(c);
  }
  return out;
}

function escapeRegex(c: string): string {
  return /[.+^${}()|[\]\\]/.test(c) ? `\\${c}` : c;
}
