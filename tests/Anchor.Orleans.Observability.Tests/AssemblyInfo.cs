// Metrics are process-wide listeners: one host at a time keeps the counts exact.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
