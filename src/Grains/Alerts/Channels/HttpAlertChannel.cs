using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Anchor.Orleans.Grains.Alerts.Channels;

/// <summary>
/// A channel that POSTs JSON with its own named <see cref="HttpClient"/> (retries, circuit breaker and timeouts from
/// <see cref="AlertsRegistration"/>). The URL is a secret: it is never logged, and errors are reduced to short codes
/// (<c>http_500</c>, <c>timeout</c>, <c>circuit_open</c>, <c>connection_refused</c>) that cannot carry it.
/// </summary>
public abstract class HttpAlertChannel(IHttpClientFactory http, IOptionsMonitor<AlertsOptions> options, TimeProvider time) : IAlertChannel
{
    public abstract string Name { get; }

    /// <summary>The URL to POST to, or null when the channel is off.</summary>
    protected abstract string? Endpoint(AlertsOptions options);

    protected abstract JsonObject Payload(AlertEntry entry, AlertsOptions options);

    public async Task<AlertDelivery> SendAsync(AlertEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var o = options.CurrentValue;
        var url = Endpoint(o);
        if (string.IsNullOrEmpty(url))
        {
            return Result(AlertDeliveryOutcome.Failed, 0, null, "not_configured");
        }

        var attempts = new StrongBox<int>();
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(Payload(entry, o).ToJsonString(), Encoding.UTF8, new MediaTypeHeaderValue("application/json", "utf-8")),
        };
        request.Options.Set(AttemptCountingHandler.Attempts, attempts);
        try
        {
            using var response = await http.CreateClient(AlertsRegistration.ClientName(Name)).SendAsync(request, cancellationToken);
            var status = (int)response.StatusCode;
            return response.IsSuccessStatusCode
                ? Result(AlertDeliveryOutcome.Delivered, attempts.Value, status, null)
                : Result(AlertDeliveryOutcome.Failed, attempts.Value, status, "http_" + status.ToString(CultureInfo.InvariantCulture));
        }
        catch (BrokenCircuitException)
        {
            return Result(AlertDeliveryOutcome.Failed, attempts.Value, null, "circuit_open");
        }
        catch (TimeoutRejectedException)
        {
            return Result(AlertDeliveryOutcome.Failed, attempts.Value, null, "timeout");
        }
        catch (HttpRequestException ex)
        {
            // The message may name the host; the error kind is enough to act on.
            return Result(AlertDeliveryOutcome.Failed, attempts.Value, null, ErrorCode(ex.HttpRequestError));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Result(AlertDeliveryOutcome.Failed, attempts.Value, null, "timeout");
        }
    }

    private AlertDelivery Result(AlertDeliveryOutcome outcome, int attempts, int? status, string? error) =>
        new(Name, outcome, attempts, status, error, time.GetUtcNow());

    private static string ErrorCode(HttpRequestError error) => error switch
    {
        HttpRequestError.NameResolutionError => "name_resolution",
        HttpRequestError.ConnectionError => "connection_refused",
        HttpRequestError.SecureConnectionError => "tls_error",
        HttpRequestError.HttpProtocolError or HttpRequestError.InvalidResponse or HttpRequestError.ResponseEnded => "protocol_error",
        _ => "connection_failed",
    };

    /// <summary>ISO 8601 UTC with milliseconds, as every channel's timestamp.</summary>
    protected static string Iso(DateTimeOffset at) =>
        at.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Upper-case severity for human-facing text.</summary>
    protected static string Loud(AlertSeverity severity) => AlertRouting.Label(severity).ToUpperInvariant();

    /// <summary>The details as a JSON object (empty when there are none).</summary>
    protected static JsonObject DetailsObject(AlertEntry entry)
    {
        var details = new JsonObject();
        foreach (var (key, value) in entry.Details)
        {
            details[key] = value;
        }

        return details;
    }

    protected static string Truncate(string value, int max) => AlertGrain.Truncate(value, max);
}

/// <summary>Counts HTTP attempts of one delivery (inside the retry handler, so each retry counts).</summary>
public sealed class AttemptCountingHandler : DelegatingHandler
{
    public static readonly HttpRequestOptionsKey<StrongBox<int>> Attempts = new("anchor.alerts.attempts");

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Options.TryGetValue(Attempts, out var attempts))
        {
            Interlocked.Increment(ref attempts.Value);
        }

        return base.SendAsync(request, cancellationToken);
    }
}
