// Several clusters in one process can cross-talk: a silo that receives any message from another cluster's grain
// caches where that grain lives and routes its own calls there. Production runs one silo per process, so this is
// a test-host artefact; these tests (multi-silo clusters, tripping the switch) run one at a time in their own process.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
