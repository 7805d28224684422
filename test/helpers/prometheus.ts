/**
 * Scraping /metrics in tests: the body is parsed with a real Prometheus text-format parser
 * (parse-prometheus-text-format, which throws on a malformed line), then samples are looked up by
 * name and labels. That parser folds a labelled histogram's series into one (losing their labels),
 * so samples are read from a second parse of the same body without its TYPE lines, where every
 * `_bucket`, `_sum` and `_count` line is a family of its own with all its labels.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

/** One parsed scrape. */
export interface Scrape {
  text: string;
  families: ReturnType<typeof parsePrometheusTextFormat>;
  /** The family's type (COUNTER, GAUGE, HISTOGRAM…), or undefined when absent. */
  type(name: string): string | undefined;
  /** The value of the sample of `name` whose labels include `labels` (summed over matches); 0 when none. */
  value(name: string, labels?: Record<string, string>): number;
  /** For a histogram: the count of observations of the matching series. */
  count(name: string, labels?: Record<string, string>): number;
  /** Every label set of a family. */
  labels(name: string): Array<Record<string, string>>;
}

const matches = (have: Record<string, string> | undefined, want: Record<string, string>): boolean => Object.entries(want).every(([k, v]) => have?.[k] === v);

/** Parses an exposition body. */
export function parseScrape(text: string): Scrape {
  const families = parsePrometheusTextFormat(text);
  const samples = parsePrometheusTextFormat(text.split('\n').filter((line) => !line.startsWith('# TYPE ')).join('\n'));
  const series = (name: string) => samples.filter((f) => f.name === name).flatMap((f) => f.metrics);
  const sum = (name: string, labels: Record<string, string>): number => series(name).filter((m) => matches(m.labels, labels)).reduce((n, m) => n + Number(m.value ?? 0), 0);
  return {
    text,
    families,
    type: (name) => families.find((f) => f.name === name)?.type,
    value: (name, labels = {}) => sum(name, labels),
    count: (name, labels = {}) => sum(`${name}_count`, labels),
    labels: (name) => series(name).map((m) => m.labels ?? {}),
  };
}

/** GETs `url` (with a bearer token when given) and parses it; throws unless 200 with the text format. */
export async function scrape(url: string, token?: string): Promise<Scrape> {
  const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}`);
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('text/plain')) throw new Error(`GET ${url}: content-type ${type}`);
  return parseScrape(await res.text());
}
