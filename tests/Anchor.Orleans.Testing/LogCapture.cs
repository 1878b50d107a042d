using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Anchor.Orleans.Testing;

/// <summary>Records every log line (message, exception and scopes) a host writes, so tests can read what was logged.</summary>
public sealed class LogCapture : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<CapturedLog> _entries = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyCollection<CapturedLog> Entries => _entries;

    /// <summary>Everything logged, one entry per line, with scopes and exceptions written out.</summary>
    public string AllText => string.Join("\n", _entries.Select(e => e.ToString()));

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => owner._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var scopes = new List<KeyValuePair<string, object?>>();
            owner._scopes.ForEachScope(
                (scope, list) =>
                {
                    if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
                    {
                        list.AddRange(pairs);
                    }
                    else if (scope is IEnumerable<KeyValuePair<string, object>> objects)
                    {
                        list.AddRange(objects.Select(p => new KeyValuePair<string, object?>(p.Key, p.Value)));
                    }
                    else
                    {
                        list.Add(new KeyValuePair<string, object?>("scope", scope?.ToString()));
                    }
                },
                scopes);
            var fields = state as IEnumerable<KeyValuePair<string, object?>> ?? [];
            owner._entries.Enqueue(new CapturedLog(category, logLevel, formatter(state, exception), exception?.ToString(), scopes, fields.ToList()));
        }
    }
}

public sealed record CapturedLog(
    string Category,
    LogLevel Level,
    string Message,
    string? Exception,
    IReadOnlyList<KeyValuePair<string, object?>> Scopes,
    IReadOnlyList<KeyValuePair<string, object?>> Fields)
{
    public object? Scope(string key) => Scopes.LastOrDefault(s => s.Key == key).Value;

    public object? Field(string key) => Fields.FirstOrDefault(s => s.Key == key).Value;

    public override string ToString() =>
        $"{Level} {Category}: {Message} [{string.Join(", ", Scopes.Select(s => $"{s.Key}={s.Value}"))}] [{string.Join(", ", Fields.Select(s => $"{s.Key}={s.Value}"))}] {Exception}";
}
