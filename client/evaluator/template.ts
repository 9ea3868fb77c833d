// Command templates: `{name}` placeholders replaced by shell-quoted values (kept apart from command.ts so that
// the CLI can check templates without loading the process machinery).
import type { Config } from '../hpo/types.js';
import { EvaluatorError } from './errors.js';

type Segment = { text: string } | { name: string };

/** Split a template into literal text and {name} placeholders ("{{" and "}}" stand for literal braces). */
export function parseCommandTemplate(template: string): Segment[] {
  if (typeof template !== 'string' || template.trim() === '') {
    throw new EvaluatorError('COMMAND_BAD_TEMPLATE', 'the command template is empty');
  }
  const segments: Segment[] = [];
  let text = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c === '{' && template[i + 1] === '{') {
      text += '{';
      i++;
    } else if (c === '}' && template[i + 1] === '}') {
      text += '}';
      i++;
    } else if (c === '{') {
      const end = template.indexOf('}', i);
      const name = end < 0 ? '' : template.slice(i + 1, end);
      if (end < 0 || !/^[A-Za-z_][\w.:-]*$/.test(name)) {
        throw new EvaluatorError(
          'COMMAND_BAD_TEMPLATE',
          `command template, column ${i + 1}: "${template.slice(i, end < 0 ? i + 12 : end + 1)}" is not a {name} placeholder (write {{ for a literal brace)`,
        );
      }
      if (text) segments.push({ text });
      text = '';
      segments.push({ name });
      i = end;
    } else if (c === '}') {
      throw new EvaluatorError('COMMAND_BAD_TEMPLATE', `command template, column ${i + 1}: unmatched "}" (write }} for a literal brace)`);
    } else text += c;
  }
  if (text) segments.push({ text });
  return segments;
}

/** Names of the placeholders of a template, in order of first use. */
export function commandPlaceholders(template: string): string[] {
  const names: string[] = [];
  for (const s of parseCommandTemplate(template)) if ('name' in s && !names.includes(s.name)) names.push(s.name);
  return names;
}

/** Quote a value for /bin/sh: plain words stay as they are, anything else goes in single quotes. */
export function shellQuote(value: string): string {
  if (value !== '' && /^[A-Za-z0-9_+\-.,:/=@%]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The shell command line for one configuration. */
export function renderCommand(template: string, parameters: Config): string {
  return parseCommandTemplate(template)
    .map((s) => {
      if ('text' in s) return s.text;
      const v = parameters[s.name];
      if (v === undefined) {
        throw new EvaluatorError(
          'COMMAND_BAD_TEMPLATE',
          `command placeholder {${s.name}} names no hyperparameter of this configuration (has: ${Object.keys(parameters).join(', ')})`,
        );
      }
      return shellQuote(String(v));
    })
    .join('');
}

