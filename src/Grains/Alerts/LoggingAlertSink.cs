using Anchor.Orleans.Grains.Interfaces.Alerts;
using Microsoft.Extensions.Logging;

namespace Anchor.Orleans.Grains.Alerts;

/// <summary>The default alert sink: writes each alert to the log (the alerting channels replace it).</summary>
public sealed partial class LoggingAlertSink(ILogger<LoggingAlertSink> logger) : IAlertSink
{
    public Task RaiseAsync(Alert alert, CancellationToken cancellationToken = default)
    {
        var level = alert.Severity switch
        {
            AlertSeverity.Critical => LogLevel.Critical,
            AlertSeverity.Warning => LogLevel.Warning,
            _ => LogLevel.Information,
        };
        LogAlert(logger, level, alert.Severity, alert.Key, alert.Title, alert.Message, alert.At);
        return Task.CompletedTask;
    }

    [LoggerMessage(Message = "ALERT {Severity} {AlertKey}: {Title}: {AlertMessage} ({At:O})")]
    private static partial void LogAlert(ILogger logger, LogLevel level, AlertSeverity severity, string alertKey, string title, string alertMessage, DateTimeOffset at);
}
