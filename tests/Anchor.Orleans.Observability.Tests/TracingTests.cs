using System.Collections.Concurrent;
using System.Diagnostics;
using Anchor.Orleans.Testing;

namespace Anchor.Orleans.Observability.Tests;

/// <summary>One span per tool call, with admission, grain-call and browser-action spans beneath it.</summary>
public sealed class TracingTests : IAsyncLifetime
{
    private readonly FixtureSite _site = new();
    private readonly ConcurrentBag<Activity> _spans = [];
    private ActivityListener? _listener;
    private AnchorAppHost _host = null!;

    public async ValueTask InitializeAsync()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is "Anchor.Orleans" || s.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Add,
        };
        ActivitySource.AddActivityListener(_listener);
        await _site.InitializeAsync();
        var settings = TestKeys.Settings();
        settings["Anchor:Browser:AllowedHosts:0"] = FixtureSite.Host;
        _host = await AnchorAppHost.StartAsync(settings);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        await _site.DisposeAsync();
        _listener?.Dispose();
    }

    [Fact]
    public async Task ToolCall_HasAdmissionGrainAndBrowserSpans_AndNoQueryString()
    {
        await using var agent = await McpTestClient.ConnectAsync(_host, TestKeys.Agent);

        var result = await agent.CallAsync("browser_navigate", new { url = _site.Url("/b?token=secret-in-query") });
        await agent.CallAsync("browser_close");

        Assert.True(result.IsError != true, result.Text());
        var tool = Assert.Single(_spans, s => s.OperationName == "tool browser_navigate");
        Assert.Equal("browser_navigate", tool.GetTagItem("anchor.tool"));
        Assert.Equal(TestKeys.AgentClient, tool.GetTagItem("anchor.client_id"));
        Assert.Equal("success", tool.GetTagItem("anchor.outcome"));
        var trace = _spans.Where(s => s.TraceId == tool.TraceId).ToList();
        Assert.Contains(trace, s => s.OperationName == "admission" && s.ParentSpanId == tool.SpanId);
        Assert.Contains(trace, s => s.Source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal) && s.OperationName.Contains("IBrowserSessionGrain", StringComparison.Ordinal));
        var browser = Assert.Single(trace, s => s.OperationName == "browser navigate");
        Assert.Equal(_site.Url("/b"), browser.GetTagItem("url.full"));
        Assert.DoesNotContain(_spans.SelectMany(s => s.TagObjects), t => t.Value?.ToString()?.Contains("secret-in-query", StringComparison.Ordinal) == true);
    }
}
