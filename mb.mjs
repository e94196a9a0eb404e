import { LineEndingNormalizer } from './dist/src/message/line-ending-normalizer.js';
import { LineScanner } from './dist/src/message/line-scanner.js';
const line = 'x'.repeat(74) + '\r\n';
const body = Buffer.from(line.repeat(1350));
const chunks = []; for (let i = 0; i < body.length; i += 65536) chunks.push(body.subarray(i, i + 65536));
function run(n) {
  const t = process.hrtime.bigint();
  for (let k = 0; k < n; k++) {
    const norm = new LineEndingNormalizer(); const sc = new LineScanner();
    for (const c of chunks) norm._transform(c, 'buffer', (e, out) => { sc.scan(out ?? c); });
  }
  return Number(process.hrtime.bigint() - t) / n / 1000;
}
run(200); console.log('normalizer+scanner µs per 100KB', run(1000).toFixed(1));
function runS(n) { const t = process.hrtime.bigint(); for (let k = 0; k < n; k++) { const sc = new LineScanner(); for (const c of chunks) sc.scan(c); } return Number(process.hrtime.bigint() - t) / n / 1000; }
runS(200); console.log('scanner only', runS(1000).toFixed(1));
