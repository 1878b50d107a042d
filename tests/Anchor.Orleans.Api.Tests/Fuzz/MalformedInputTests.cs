using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using Anchor.Orleans.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.DependencyInjection;

namespace Anchor.Orleans.Api.Tests.Fuzz;

/// <summary>
/// Ten thousand generated malformed requests (fixed seed) to <c>/mcp</c>, <c>/sse</c> + <c>/message</c> (a live
/// stream's and unknown ones) and every route the app maps, read from its endpoint data source so new routes are
/// covered: none may answer 5xx or hang, and the host still serves a real tool call afterwards.
/// </summary>
public sealed class MalformedInputTests
{
    private const int Seed = 20261130;
    private const int Count = 10_000;
    private const long BodyLimit = 64 * 1024;
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task MalformedInputs_NeverAnswer5xx_AndTheHostStillServesAToolCall()
    {
        var settings = TestKeys.Settings();
        settings["Anchor:RateLimit:MaxRequests"] = "100000000";
        settings["Anchor:RateLimit:MaxProtocolRequests"] = "100000000";
        // Tool calls that pass binding fail fast (browser_error) instead of launching browsers.
        settings["Anchor:Browser:ExecutablePath"] = "/nonexistent/chromium";
        settings["Anchor:Http:MaxRequestBodyBytes"] = BodyLimit.ToString(CultureInfo.InvariantCulture);
        settings["Anchor:Browser:MaxUploadBytes"] = BodyLimit.ToString(CultureInfo.InvariantCulture);
        await using var host = await AnchorAppHost.StartAsync(settings);
        var operatorClient = host.CreateClient(TestKeys.Operator);
        await using var stream = await LegacyStream.OpenAsync(host.CreateClient(TestKeys.Agent));
        var export = await operatorClient.GetStringAsync("/api/governance/export", Ct);

        var targets = Targets(host, stream.MessagePath);
        var samples = new Dictionary<string, string>
        {
            ["POST /api/emergency-shutdown"] = """{"reason":"fuzz"}""",
            ["POST /api/governance/import"] = export,
        };
        var inputs = new MalformedInputs(Seed, targets, samples, BodyLimit, [TestKeys.Operator, TestKeys.Agent, TestKeys.OtherAgent]).Generate(Count).ToList();

        var statuses = new ConcurrentDictionary<string, int>();
        var failures = new ConcurrentQueue<string>();
        var elapsed = new ConcurrentDictionary<string, long>();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 16 }) { BaseAddress = host.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        TestContext.Current.TestOutputHelper?.WriteLine("routes: " + string.Join(", ", targets.Select(t => $"{t.Method} {t.Template}").Distinct()));
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(inputs, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Ct }, async (input, ct) =>
        {
            var started = Stopwatch.GetTimestamp();
            var outcome = await SendAsync(http, input, ct);
            elapsed.AddOrUpdate($"{input.Target.Method} {input.Target.Template}", Stopwatch.GetElapsedTime(started).Ticks, (_, t) => t + Stopwatch.GetElapsedTime(started).Ticks);
            statuses.AddOrUpdate(outcome, 1, (_, n) => n + 1);
            // A body past the limit may be refused by closing the connection (RFC 9110, 413): the server does not read
            // what it will not take, and a client still sending it can see the close before the answer. Any other
            // input must be answered.
            if (outcome.StartsWith('5') || outcome == "hung" || (outcome.StartsWith('c') && input.Kind != "oversized"))
            {
                failures.Enqueue($"{outcome} for {input}");
            }
        });
        clock.Stop();

        var output = TestContext.Current.TestOutputHelper;
        output?.WriteLine($"{inputs.Count} malformed inputs to {targets.Select(t => $"{t.Method} {t.Template}").Distinct().Count()} targets in {clock.Elapsed.TotalSeconds:F1} s (seed {Seed}); status codes:");
        foreach (var (code, count) in statuses.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            output?.WriteLine($"  {code}: {count}");
        }

        foreach (var failure in failures.Where(f => f.StartsWith('h')).Take(10).Concat(failures.Where(f => f.StartsWith('5')).Take(10)).Concat(failures.Where(f => f.StartsWith('c')).Take(10)))
        {
            output?.WriteLine(failure);
        }

        foreach (var error in host.Logs.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Error).GroupBy(e => e.Category + " " + e.Message + " " + e.Exception?.Split('\n')[0]).Take(20))
        {
            output?.WriteLine($"{error.Count()} x {error.Key} @ {error.First().Exception?.Split((char)10).Skip(1).FirstOrDefault()}");
        }

        output?.WriteLine("slowest targets (total s): " + string.Join(", ", elapsed.OrderByDescending(e => e.Value).Take(8).Select(e => $"{e.Key} {TimeSpan.FromTicks(e.Value).TotalSeconds:F1}")));
        output?.WriteLine("inputs per kind: " + string.Join(", ", inputs.GroupBy(i => i.Kind).Select(g => $"{g.Key} {g.Count()}")));
        Assert.Equal(Count, statuses.Values.Sum());
        Assert.True(failures.IsEmpty, $"{failures.Count} inputs answered 5xx or hung:\n{string.Join("\n", failures.Take(20))}");

        // A fuzzed body may have been a valid trip: reset, then a real agent's real tool call is served.
        using var reset = await operatorClient.DeleteAsync("/api/emergency-shutdown", Ct);
        Assert.Equal(System.Net.HttpStatusCode.OK, reset.StatusCode);
        await using var agent = await McpTestClient.ConnectAsync(host, TestKeys.Agent);
        var status = await agent.CallAsync("budget_status");
        Assert.True(status.IsError != true, status.Text());
        Assert.Equal(TestKeys.AgentClient, status.Json().GetProperty("client_id").GetString());
    }

    /// <summary>Every route of the app (each of its methods), the legacy paths, and the live stream's message path, MCP weighted up.</summary>
    private static List<FuzzTarget> Targets(AnchorAppHost host, string liveMessagePath)
    {
        var routes = host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET", "POST"])
                .Select(method => new FuzzTarget(method, "/" + e.RoutePattern.RawText!.Trim('/'), e.RoutePattern.RawText!.TrimStart('/').StartsWith("mcp", StringComparison.Ordinal))))
            .Distinct()
            .ToList();
        Assert.Contains(routes, r => r is { Method: "POST", Template: "/mcp" });
        Assert.Contains(routes, r => r is { Method: "POST", Template: "/api/emergency-shutdown" });
        FuzzTarget[] mcp =
        [
            new("POST", "/mcp", true), new("POST", "/message", true), new("POST", liveMessagePath, true), new("POST", "/mcp" + liveMessagePath, true),
            new("GET", "/sse", true), new("DELETE", "/mcp", true),
        ];
        return [.. routes, .. Enumerable.Repeat(mcp, Math.Max(1, routes.Count / mcp.Length)).SelectMany(t => t)];
    }

    /// <summary>The status code as text, or <c>hung</c> when no answer came within the deadline.</summary>
    private static async Task<string> SendAsync(HttpClient http, FuzzInput input, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        using var request = new HttpRequestMessage(new HttpMethod(input.Target.Method), input.Path);
        // Each input on its own connection: a connection the server closes after a refused request (431) takes no other input with it.
        request.Headers.ConnectionClose = true;
        if (input.Authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", input.Authorization);
        }

        if (input.Body is not null)
        {
            request.Content = new ByteArrayContent(input.Body);
            if (input.ContentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", input.ContentType);
            }
        }

        foreach (var (name, value) in input.Headers)
        {
            if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, value);
            }
        }

        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            if (response.Content.Headers.ContentType?.MediaType != "text/event-stream")
            {
                // Read the answer, so a failure after the headers shows; a body still coming after a while is a stream
                // (the dashboard's trace), and its status is the answer.
                using var body = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                body.CancelAfter(TimeSpan.FromSeconds(1));
                try
                {
                    await response.Content.ReadAsByteArrayAsync(body.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    return $"{(int)response.StatusCode} (stream)";
                }
            }

            return ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return "hung";
        }
        catch (HttpRequestException ex)
        {
            // The server may answer and close while a body it refused is still being sent (413, 431).
            return $"connection closed ({ex.HttpRequestError})";
        }
    }

    /// <summary>A live legacy SSE stream (GET /sse), read to its end in the background so the server never blocks writing to it.</summary>
    private sealed class LegacyStream : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private HttpResponseMessage _response = null!;
        private Task _drain = Task.CompletedTask;

        public string MessagePath { get; private set; } = "";

        public static async Task<LegacyStream> OpenAsync(HttpClient client)
        {
            var stream = new LegacyStream();
            using var request = new HttpRequestMessage(HttpMethod.Get, "/sse");
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            stream._response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
            stream._response.EnsureSuccessStatusCode();
            var reader = new StreamReader(await stream._response.Content.ReadAsStreamAsync(Ct));
            while (await reader.ReadLineAsync(Ct) is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    // "/mcp/message?sessionId=…": the public path is "/message?sessionId=…".
                    stream.MessagePath = line["data: ".Length..].Replace("/mcp/message", "/message", StringComparison.Ordinal);
                    break;
                }
            }

            stream._drain = DrainAsync(reader, stream._stop.Token);
            return stream;
        }

        private static async Task DrainAsync(StreamReader reader, CancellationToken cancellationToken)
        {
            try
            {
                while (await reader.ReadLineAsync(cancellationToken) is not null)
                {
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException)
            {
                // The test is over, or the host stopped.
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _drain;
            _response.Dispose();
            _stop.Dispose();
        }
    }
}
