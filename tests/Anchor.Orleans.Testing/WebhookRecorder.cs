using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Anchor.Orleans.Testing;

/// <summary>
/// A real HTTP listener on 127.0.0.1 standing in for Slack, Discord, PagerDuty and a generic webhook: records every
/// request (method, path, headers, JSON body, arrival time) and answers 200 unless told to answer another status or
/// to hang (never answer) for a path prefix.
/// </summary>
public sealed class WebhookRecorder : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly ConcurrentDictionary<string, int> _behaviours = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Status code that means "never answer" in <see cref="Respond"/>.</summary>
    public const int Hang = -1;

    private WebhookRecorder(WebApplication app) => _app = app;

    public int Port { get; private set; }

    public IReadOnlyCollection<RecordedRequest> Requests => _requests;

    public static async Task<WebhookRecorder> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var recorder = new WebhookRecorder(builder.Build());
        recorder._app.Map("/{**path}", recorder.HandleAsync);
        await recorder._app.StartAsync();
        var address = recorder._app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        recorder.Port = int.Parse(address[(address.LastIndexOf(':') + 1)..].TrimEnd('/'), CultureInfo.InvariantCulture);
        return recorder;
    }

    public string Url(string path) => $"http://127.0.0.1:{Port}{path}";

    /// <summary>Answers requests whose path starts with <paramref name="pathPrefix"/> with <paramref name="status"/> (or <see cref="Hang"/>).</summary>
    public void Respond(string pathPrefix, int status) => _behaviours[pathPrefix] = status;

    /// <summary>The requests whose path starts with <paramref name="pathPrefix"/>, in arrival order.</summary>
    public IReadOnlyList<RecordedRequest> For(string pathPrefix) =>
        [.. _requests.Where(r => r.Path.StartsWith(pathPrefix, StringComparison.Ordinal))];

    /// <summary>Waits until <paramref name="count"/> requests under <paramref name="pathPrefix"/> match, and returns them.</summary>
    public Task<IReadOnlyList<RecordedRequest>> WaitForAsync(string pathPrefix, Func<RecordedRequest, bool> match, int count = 1, TimeSpan? timeout = null) =>
        Poll.UntilAsync(
            () => Task.FromResult<IReadOnlyList<RecordedRequest>>([.. For(pathPrefix).Where(match)]),
            found => found.Count >= count,
            timeout ?? TimeSpan.FromSeconds(20),
            $"{count} request(s) to {pathPrefix}");

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var raw = await reader.ReadToEndAsync(context.RequestAborted);
        JsonNode? body = null;
        try
        {
            body = raw.Length > 0 ? JsonNode.Parse(raw) : null;
        }
        catch (System.Text.Json.JsonException)
        {
        }

        var path = context.Request.Path.Value ?? "";
        var status = _behaviours.Where(b => path.StartsWith(b.Key, StringComparison.Ordinal)).OrderByDescending(b => b.Key.Length).Select(b => (int?)b.Value).FirstOrDefault() ?? StatusCodes.Status200OK;
        _requests.Enqueue(new RecordedRequest(
            context.Request.Method,
            path,
            context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()),
            body,
            raw,
            DateTimeOffset.UtcNow,
            status));

        if (status == Hang)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
            try
            {
                await Task.Delay(Timeout.Infinite, linked.Token);
            }
            catch (OperationCanceledException)
            {
            }

            return;
        }

        context.Response.StatusCode = status;
        await context.Response.WriteAsync(status < 300 ? "ok" : "failed", CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }
}

/// <summary>One request the <see cref="WebhookRecorder"/> received; header names are lower-case.</summary>
public sealed record RecordedRequest(
    string Method,
    string Path,
    IReadOnlyDictionary<string, string> Headers,
    JsonNode? Body,
    string RawBody,
    DateTimeOffset ReceivedAt,
    int AnsweredWith);
