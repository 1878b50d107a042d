namespace Anchor.Orleans.Grains.Interfaces.Operations;

/// <summary>Counts one silo gathered since its last flush (or, as totals, the cluster since the stats began).</summary>
[GenerateSerializer, Immutable, Alias("anchor.OperationsCounts")]
public sealed record OperationsCounts(
    [property: Id(0)] long ToolCalls,
    [property: Id(1)] long ToolErrors,
    [property: Id(2)] long ToolRefusals,
    [property: Id(3)] long SearchesAttempted,
    [property: Id(4)] long SearchesSucceeded,
    [property: Id(5)] long SearchesFailed,
    [property: Id(6)] double SearchSeconds,
    [property: Id(7)] long SearchResults,
    [property: Id(8)] long Extractions,
    [property: Id(9)] long ExtractionsSucceeded,
    [property: Id(10)] double CompletenessSum,
    [property: Id(11)] long CacheHits,
    [property: Id(12)] long CacheMisses)
{
    public static readonly OperationsCounts Zero = new(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    public bool IsZero => this == Zero;

    public OperationsCounts Add(OperationsCounts o) => new(
        ToolCalls + o.ToolCalls, ToolErrors + o.ToolErrors, ToolRefusals + o.ToolRefusals,
        SearchesAttempted + o.SearchesAttempted, SearchesSucceeded + o.SearchesSucceeded, SearchesFailed + o.SearchesFailed,
        SearchSeconds + o.SearchSeconds, SearchResults + o.SearchResults,
        Extractions + o.Extractions, ExtractionsSucceeded + o.ExtractionsSucceeded, CompletenessSum + o.CompletenessSum,
        CacheHits + o.CacheHits, CacheMisses + o.CacheMisses);
}

/// <summary>Cluster-wide operations counters (one activation, key 0), fed by every silo's periodic flush.</summary>
public interface IOperationsStatsGrain : IGrainWithIntegerKey
{
    Task AddAsync(OperationsCounts delta);

    Task<OperationsCounts> GetAsync();
}
