/** `dhts status` text, laid out as `ray status` does. */
import type { ClusterStatus, Resources } from '../../protocol/index.js';

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)}B` : `${v.toFixed(2)}${units[i]}`;
}

function fmtQty(name: string, used: number, total: number): string {
  if (name === 'memory') return `${formatBytes(used)}/${formatBytes(total)} ${name}`;
  return `${used.toFixed(1)}/${total.toFixed(1)} ${name}`;
}

function shape(r: Resources): string {
  return `{${Object.entries(r).filter(([, v]) => v > 0).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `'${k}': ${v.toFixed(1)}`).join(', ')}}`;
}

export function formatStatus(s: ClusterStatus, now = new Date()): string {
  const lines: string[] = [];
  const rule = '-'.repeat(63);
  lines.push(`======== Cluster status: ${now.toISOString().replace('T', ' ').replace('Z', '')} ========`);
  lines.push(`Head: ${s.headAddress}`);
  lines.push('Node status');
  lines.push(rule);
  const alive = s.nodes.filter((n) => n.alive);
  lines.push('Active:');
  if (alive.length === 0) lines.push(' (no active nodes)');
  for (const n of alive) {
    const labels = Object.entries(n.labels).map(([k, v]) => `${k}=${v}`).join(',');
    lines.push(` ${n.nodeId} ${n.hostname}${n.isHead ? ' (head)' : ''}${labels ? ` [${labels}]` : ''}: ${n.workers} workers`);
  }
  lines.push('Recent failures:');
  if (s.recentFailures.length === 0) lines.push(' (no failures)');
  for (const f of s.recentFailures) lines.push(` ${f.nodeId} ${f.hostname}: NodeTerminated (${f.reason})`);
  lines.push('');
  lines.push('Resources');
  lines.push(rule);
  lines.push('Total Usage:');
  const total: Resources = {};
  const avail: Resources = {};
  for (const n of alive) {
    for (const [k, v] of Object.entries(n.total)) total[k] = (total[k] ?? 0) + v;
    for (const [k, v] of Object.entries(n.available)) avail[k] = (avail[k] ?? 0) + v;
  }
  const names = Object.keys(total).sort();
  if (names.length === 0) lines.push(' (no resources)');
  for (const k of names) lines.push(` ${fmtQty(k, Math.max(0, total[k]! - (avail[k] ?? 0)), total[k]!)}`);
  lines.push('Pending Demands:');
  if (s.pendingDemands.length === 0) lines.push(' (no resource demands)');
  for (const d of s.pendingDemands) {
    lines.push(` ${shape(d.resources)}: ${d.count}+ pending tasks/actors${d.infeasible ? ' (infeasible: no node can ever fit it)' : ''}`);
  }
  lines.push('');
  lines.push('Actors');
  lines.push(rule);
  const live = s.actors.filter((a) => a.state !== 'DEAD');
  if (live.length === 0) lines.push(' (no actors)');
  for (const a of live) {
    lines.push(` ${a.actorId} ${a.className}${a.name ? ` '${a.namespace}/${a.name}'` : ''} ${a.state}${a.nodeId ? ` on ${a.nodeId}` : ''}${a.pid ? ` pid ${a.pid}` : ''}${a.restarts ? ` restarts ${a.restarts}` : ''}${a.detached ? ' detached' : ''}`);
  }
  const dead = s.actors.length - live.length;
  if (dead) lines.push(` (${dead} dead)`);
  lines.push(`Tasks: ${s.tasks.running} running, ${s.tasks.pending} pending, ${s.tasks.finished} finished`);
  return `${lines.join('\n')}\n`;
}
