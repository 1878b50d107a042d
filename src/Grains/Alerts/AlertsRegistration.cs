using Anchor.Orleans.Grains.Alerts.Channels;
using Anchor.Orleans.Grains.Alerts.Reports;
using Anchor.Orleans.Grains.Alerts.Rules;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace Anchor.Orleans.Grains.Alerts;

public static class AlertsRegistration
{
    /// <summary>
    /// The alerting path on this silo: the real <see cref="IAlertSink"/> (replacing any default), the dispatcher and
    /// its channels with resilient HTTP clients, the in-process rules and the daily cost report.
    /// </summary>
    public static IServiceCollection AddAnchorAlerts(this IServiceCollection services)
    {
        // AddSingleton, not TryAdd: a feature may register a logging-only default with TryAdd; this one wins either way.
        services.AddSingleton<IAlertSink, GrainAlertSink>();
        services.AddSingleton<AlertDispatcher>();
        // The alert history's incremental storage: Redis when the silo registered it, memory otherwise.
        services.TryAddSingleton<Persistence.IEntryStateStore, Persistence.MemoryEntryStateStore>();
        services.AddHostedService(sp => sp.GetRequiredService<AlertDispatcher>());

        services.AddTransient<AttemptCountingHandler>();
        services.AddSingleton<IAlertChannel, SlackAlertChannel>();
        services.AddSingleton<IAlertChannel, DiscordAlertChannel>();
        services.AddSingleton<IAlertChannel, PagerDutyAlertChannel>();
        services.AddSingleton<IAlertChannel, WebhookAlertChannel>();
        foreach (var channel in new[] { AlertChannels.Slack, AlertChannels.Discord, AlertChannels.PagerDuty, AlertChannels.Webhook })
        {
            AddChannelClient(services, channel);
        }

        services.AddSingleton<AlertRules>();
        services.AddHostedService<AlertRulesWorker>();

        services.TryAddSingleton<ICostReportSource, NoCostReportSource>();
        services.AddHostedService<DailyCostReporter>();
        return services;
    }

    /// <summary>The named <see cref="HttpClient"/> of a channel; each has its own pipeline and so its own breaker.</summary>
    public static string ClientName(string channel) => "anchor-alerts-" + channel;

    /// <summary>What every channel's requests announce themselves as.</summary>
    public const string UserAgent = "Anchor.Orleans-Alerts/1.0";

    private static void AddChannelClient(IServiceCollection services, string channel)
    {
        var builder = services
            .AddHttpClient(ClientName(channel), client =>
            {
                // The pipeline's total timeout bounds a delivery; HttpClient's own would cut across the retries.
                client.Timeout = Timeout.InfiniteTimeSpan;
                client.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
            })
            // The default HttpClient logging writes the request URI, and a webhook URI is a secret.
            .RemoveAllLoggers();

        builder.AddResilienceHandler(ClientName(channel), static (pipeline, context) =>
        {
            context.EnableReloads<AlertsOptions>();
            var o = context.ServiceProvider.GetRequiredService<IOptionsMonitor<AlertsOptions>>().CurrentValue.Delivery;
            pipeline.AddTimeout(TimeSpan.FromSeconds(o.TotalTimeoutSeconds));
            if (o.MaxRetries > 0)
            {
                // Retries 408, 429 (after Retry-After), 5xx, connection failures and attempt timeouts.
                pipeline.AddRetry(new HttpRetryStrategyOptions
                {
                    MaxRetryAttempts = o.MaxRetries,
                    Delay = TimeSpan.FromSeconds(o.RetryDelaySeconds),
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    ShouldRetryAfterHeader = true,
                });
            }

            pipeline.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
            {
                FailureRatio = o.BreakerFailureRatio,
                MinimumThroughput = o.BreakerMinimumThroughput,
                SamplingDuration = TimeSpan.FromSeconds(o.BreakerSamplingSeconds),
                BreakDuration = TimeSpan.FromSeconds(o.BreakerBreakSeconds),
            });
            pipeline.AddTimeout(TimeSpan.FromSeconds(o.AttemptTimeoutSeconds));
        });

        // Added after the resilience handler, so it sits inside it and sees every attempt.
        builder.AddHttpMessageHandler<AttemptCountingHandler>();
    }
}
