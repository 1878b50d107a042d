using System.Text;
using Anchor.Orleans.Api.Mcp;

namespace Anchor.Orleans.Api.Tests.Mcp;

/// <summary>What admission reads of a body: only one well-formed JSON-RPC request is taken at its word.</summary>
public sealed class McpMessageShapeTests
{
    [Theory]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"budget_status","arguments":{"name":"x"}}}""", "tools/call", "budget_status", true)]
    [InlineData("""{"params":{"arguments":{"a":[1,{"name":"inner"}]},"name":"browser_navigate"},"method":"tools/call","id":"a","jsonrpc":"2.0"}""", "tools/call", "browser_navigate", true)]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"ping"}""", "ping", null, true)]
    [InlineData("""{"jsonrpc":"2.0","method":"notifications/initialized"}""", "notifications/initialized", null, false)]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call"}""", "tools/call", null, false)]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":7}}""", "tools/call", "", false)]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","method":"ping","params":{"name":"budget_status"}}""", "tools/call", "budget_status", false)]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"budget_status","name":"x"}}""", "tools/call", "budget_status", false)]
    [InlineData("""{"jsonrpc":"1.0","id":1,"method":"tools/call","params":{"name":"budget_status"}}""", "tools/call", "budget_status", false)]
    [InlineData("""{"jsonrpc":"2.0","id":{},"method":"tools/call","params":{"name":"budget_status"}}""", "tools/call", "budget_status", false)]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"budget_status"}} {}""", null, null, false)]
    [InlineData("""[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"budget_status"}}]""", null, null, false)]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":""", null, null, false)]
    [InlineData("", null, null, false)]
    [InlineData("not json", null, null, false)]
    public void Read_GivesMethodToolAndWhetherWellFormed(string json, string? method, string? tool, bool wellFormed)
    {
        var shape = McpMessageShape.Read(Encoding.UTF8.GetBytes(json));

        Assert.Equal((method, tool, wellFormed), (shape.Method, shape.ToolName, shape.WellFormed));
    }

    [Fact]
    public async Task ReadAsync_BodyLargerThanTheBuffer_InSmallReads_ReadsTheSameShape()
    {
        var big = new string('A', 300_000);
        var json = $$$"""{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"arguments":{"files":["{{{big}}}"]},"name":"browser_file_upload"}}""";
        await using var body = new TrickleStream(Encoding.UTF8.GetBytes(json), 1000);

        var shape = await McpMessageShape.ReadAsync(body, TestContext.Current.CancellationToken);

        Assert.Equal(("tools/call", "browser_file_upload", true), (shape.Method, shape.ToolName, shape.WellFormed));
    }

    [Fact]
    public void Read_NameLongerThanAnyKnownName_IsNoName()
    {
        var json = $$$"""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"{{{new string('x', 2000)}}}"}}""";

        var shape = McpMessageShape.Read(Encoding.UTF8.GetBytes(json));

        Assert.Equal(("tools/call", "", true), (shape.Method, shape.ToolName, shape.WellFormed));
    }

    [Fact]
    public void Read_NestedDeeperThanTheLimit_IsMalformed()
    {
        var json = """{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":""" + new string('[', 100) + new string(']', 100) + "}}";

        Assert.Same(McpMessageShape.Malformed, McpMessageShape.Read(Encoding.UTF8.GetBytes(json)));
    }

    /// <summary>Hands out at most a few bytes per read, as a network body does.</summary>
    private sealed class TrickleStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], cancellationToken);
    }
}
