// The part of autocannon's programmatic API the throughput bench uses (the package ships no types).
declare module 'autocannon' {
  interface Histogram { average: number; mean: number; stddev: number; min: number; max: number; total: number; p50: number; p90: number; p99: number }
  interface Result {
    requests: Histogram; latency: Histogram; throughput: Histogram;
    errors: number; timeouts: number; non2xx: number; duration: number;
  }
  interface Options {
    url: string; connections?: number; duration?: number; pipelining?: number;
    method?: string; path?: string; headers?: Record<string, string>;
  }
  function autocannon(opts: Options, cb: (err: Error | null, res: Result) => void): unknown;
  namespace autocannon { export type { Result, Options } }
  export default autocannon;
}
