// jemalloc's settings for the `kura` binary, read by jemalloc before main (the MALLOC_CONF
// environment variable still overrides them).
//
// Ingest frees memory in bursts: every open chunk closes at about the same time when series
// are scraped together, and a burst of closed chunks passes through RocksDB's memtables. With
// jemalloc's default ten seconds of dirty-page decay, done by whichever thread next allocates,
// those pages stay resident through the next burst, and peak RSS grows by a burst's size.
// A background thread returns them within a second instead, off the ingest threads.
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's.
const char* malloc_conf = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0";
}
