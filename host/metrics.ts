// Counters for the /metrics endpoint, rendered in the Prometheus text exposition format (0.0.4).
// Label values come from closed sets (status numbers, the module's reason names, remedy names), so
// the number of series is bounded no matter what clients send.

export interface Gauges {
  connections: number;
  sessions: number;
  moduleMemoryBytes: number;
  moduleHighWaterBytes: number;
  bufferedBytes: number;
}

type Counter = Map<string, number>;

export class Metrics {
  private readonly requests: Counter = new Map();     // by status
  private readonly rejections: Counter = new Map();   // by module reason
  private readonly refused: Counter = new Map();      // connections refused at accept, by reason
  private readonly defense: Counter = new Map();      // rules tripped, by remedy
  private readonly logins: Counter = new Map();       // by outcome
  private readonly alarms: Counter = new Map();       // self-audit alarms, by severity
  eventsLost = 0;

  response(status: number): void { bump(this.requests, String(status)); }
  rejection(reason: string): void { bump(this.rejections, reason); }
  refusal(reason: string): void { bump(this.refused, reason); }
  remedy(name: string): void { bump(this.defense, name); }
  login(outcome: 'ok' | 'failed' | 'throttled' | 'session_limit'): void { bump(this.logins, outcome); }
  auditAlarm(severity: string): void { bump(this.alarms, severity); }

  /** Count recorded for one label value (tests and the dashboard read single figures). */
  value(family: 'requests' | 'rejections' | 'refused' | 'defense' | 'logins' | 'alarms', label: string): number {
    return this[family].get(label) ?? 0;
  }

  render(g: Gauges): string {
    const out: string[] = [];
    family(out, 'moat_requests_total', 'counter', 'Responses sent, by status.', 'status', this.requests);
    family(out, 'moat_rejections_total', 'counter', 'Requests and connections the module refused, by reason.', 'reason', this.rejections);
    family(out, 'moat_connections_refused_total', 'counter', 'Connections closed at accept (bans, limits), by reason.', 'reason', this.refused);
    family(out, 'moat_defense_actions_total', 'counter', 'Defense rules tripped, by remedy.', 'remedy', this.defense);
    family(out, 'moat_logins_total', 'counter', 'Login attempts, by outcome.', 'outcome', this.logins);
    family(out, 'moat_audit_alarms_total', 'counter', 'Self-audit alarms (new or regressed high/critical findings), by severity.', 'severity', this.alarms);
    gauge(out, 'moat_bans_total', 'counter', 'Clients banned by a defense rule.', this.defense.get('ban') ?? 0);
    gauge(out, 'moat_security_events_lost_total', 'counter', 'Security events the module ring overwrote before the host read them.', this.eventsLost);
    gauge(out, 'moat_connections_active', 'gauge', 'Open client connections.', g.connections);
    gauge(out, 'moat_sessions_active', 'gauge', 'Live login sessions.', g.sessions);
    gauge(out, 'moat_module_memory_bytes', 'gauge', 'Linear memory of the module instance.', g.moduleMemoryBytes);
    gauge(out, 'moat_module_high_water_bytes', 'gauge', 'Bytes of linear memory the module uses (its tables).', g.moduleHighWaterBytes);
    gauge(out, 'moat_host_buffered_bytes', 'gauge', 'Unsent output plus unparsed input the host holds.', g.bufferedBytes);
    return out.join('\n') + '\n';
  }
}

function bump(c: Counter, k: string): void { c.set(k, (c.get(k) ?? 0) + 1); }

// Label values are escaped per the exposition format (backslash, double quote, newline).
const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function family(out: string[], name: string, type: string, help: string, key: string, c: Counter): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const k of [...c.keys()].sort()) out.push(`${name}{${key}="${label(k)}"} ${c.get(k)}`);
}

function gauge(out: string[], name: string, type: string, help: string, v: number): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${v}`);
}
