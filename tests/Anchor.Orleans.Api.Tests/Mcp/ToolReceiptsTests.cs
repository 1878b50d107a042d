using System.Text.Encodings.Web;
using System.Text.Json;
using Anchor.Orleans.Api.Mcp;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using ModelContextProtocol.Protocol;

namespace Anchor.Orleans.Api.Tests.Mcp;

/// <summary>The receipt's JSON, member by member and in order, as agents read it from <c>_meta</c>.</summary>
public sealed class ToolReceiptsTests
{
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [Fact]
    public async Task Receipt_OfASessionCall_WithARestore_HasTheSessionsFigures()
    {
        var charge = new ToolCharge();
        charge.Add("s-1", 0.01m, 0.0300m, new SessionRestored("drained", new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero), 2, ["https://a.example/"]));
        var result = new CallToolResult();

        await ToolReceipts.WriteAsync(result, charge, client: null, budgets: null!, TimeProvider.System, TestContext.Current.CancellationToken);

        Assert.Equal("""{"cost_usd":0.01,"session_id":"s-1","session_cost_usd":0.0300}""", result.Meta![ToolReceipts.MetaKey]!.ToJsonString(Relaxed));
        Assert.Equal(
            """{"session_id":"s-1","reason":"drained","checkpoint_at":"2026-11-23T10:00:00.0000000+00:00","tabs":2,"not_restored":["https://a.example/"]}""",
            result.Meta[ToolReceipts.RestoredKey]!.ToJsonString(Relaxed));
    }

    [Fact]
    public async Task Receipt_OfACallOutsideASession_HasTheCostAlone()
    {
        var result = new CallToolResult();

        await ToolReceipts.WriteAsync(result, new ToolCharge(), client: null, budgets: null!, TimeProvider.System, TestContext.Current.CancellationToken);

        Assert.Equal("""{"cost_usd":0}""", result.Meta![ToolReceipts.MetaKey]!.ToJsonString(Relaxed));
        Assert.Null(result.Meta[ToolReceipts.RestoredKey]);
    }
}
