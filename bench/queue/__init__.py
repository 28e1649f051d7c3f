"""The queue-page benchmarks: a seeded PostgreSQL helpdesk, a profile of one request per page,
and the scale and EXPLAIN checks (see bench/RESULTS.md)."""
