// The tutorial's application: a client in its own network namespace that
// commits one row at a time through the VIP, for as long as it runs.
// Plain JavaScript so `node` runs it directly inside `ip netns exec`.
//
// usage: node client-writer.mjs HOST FIRST_ID INTERVAL_MS
// stdout, one JSON object a line:
//   {"ok":ID,"node":"master1","t":EPOCH_MS}   row ID committed (autocommit, acknowledged)
//   {"fail":ID,"t":EPOCH_MS,"error":"..."}    attempt failed (row may or may not exist)
//   {"connect":true,"t":EPOCH_MS}             a connection through HOST completed (TCP + handshake)
// A row is only reported ok once the server acknowledged the COMMIT, so
// every ok row must survive every takeover. SIGTERM ends it after the
// statement in flight.
import mysql from 'mysql2/promise';

const [host, firstArg, intervalArg] = process.argv.slice(2);
let id = Number(firstArg ?? 1);
const interval = Number(intervalArg ?? 100);
let stopping = false;
process.on('SIGTERM', () => { stopping = true; });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const emit = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

// A connect that has not completed within 100 ms on this one-hop LAN went to
// a node that is gone (its SYN is lost, not refused): give up and retry, so
// the first write after a takeover lands within ~0.15 s of the VIP moving.
// That is the resolution of every failover time measured with this client.
const CONNECT_TIMEOUT_MS = 100;

let conn;
while (!stopping) {
  try {
    if (!conn) {
      conn = await mysql.createConnection({ host, user: 'app', password: 'app', database: 'test', connectTimeout: CONNECT_TIMEOUT_MS });
      conn.on('error', () => {});
      emit({ connect: true, t: Date.now() });
    }
    const [rows] = await Promise.race([
      conn.query('INSERT INTO t (id, node) VALUES (?, @@hostname)', [id]).then(() => conn.query('SELECT @@hostname AS node')),
      sleep(3000).then(() => { throw new Error('statement timeout'); }),
    ]);
    emit({ ok: id, node: rows[0].node, t: Date.now() });
    id += 1;
  } catch (error) {
    emit({ fail: id, t: Date.now(), error: String(error?.code ?? error?.message ?? error) });
    // The attempt may have committed before the error: never reuse its id.
    id += 1;
    try { conn?.destroy(); } catch { /* gone */ }
    conn = undefined;
  }
  await sleep(interval);
}
try { await conn?.end(); } catch { /* gone */ }
