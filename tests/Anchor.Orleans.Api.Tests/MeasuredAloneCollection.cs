namespace Anchor.Orleans.Api.Tests;

/// <summary>
/// Test classes that measure the silo's memory (the test process is the silo) run alone: other classes running beside
/// them would move it.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MeasuredAloneCollection
{
    public const string Name = "measured alone";
}
