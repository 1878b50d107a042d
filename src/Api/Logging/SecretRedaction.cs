using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Anchor.Orleans.Api.Logging;

/// <summary>
/// The secrets this process was configured with (API keys, metrics token, webhook URLs, routing keys, the Redis
/// password), read from configuration and re-read when it reloads. The one place that knows what to redact.
/// </summary>
public sealed class SecretValues
{
    public const string Mask = "[REDACTED]";

    private static readonly string[] SecretKeySuffixes = [":Key", ":Token", ":WebhookUrl", ":RoutingKey", "Alerts:Webhook:Url"];
    private volatile string[] _values = [];

    public SecretValues(IConfiguration configuration)
    {
        Load(configuration);
        ChangeToken.OnChange(configuration.GetReloadToken, () => Load(configuration));
    }

    public string Redact(string text)
    {
        foreach (var secret in _values)
        {
            if (text.Contains(secret, StringComparison.Ordinal))
            {
                text = text.Replace(secret, Mask, StringComparison.Ordinal);
            }
        }

        return text;
    }

    public bool IsEmpty => _values.Length == 0;

    private void Load(IConfiguration configuration)
    {
        var values = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in configuration.AsEnumerable())
        {
            // Short values would redact common words; real secrets are long.
            if (value is not { Length: >= 8 } || !key.StartsWith("Anchor:", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (SecretKeySuffixes.Any(s => key.EndsWith(s, StringComparison.OrdinalIgnoreCase)))
            {
                values.Add(value);
            }
            else if (key.EndsWith(":ConnectionString", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var part in value.Split(',').Where(p => p.StartsWith("password=", StringComparison.OrdinalIgnoreCase)))
                {
                    values.Add(part["password=".Length..]);
                }
            }
        }

        // Longest first, so a secret containing another is masked whole.
        _values = [.. values.OrderByDescending(v => v.Length)];
    }
}

/// <summary>Wraps a logger provider so every message and structured value it writes has the configured secrets masked.</summary>
public sealed class RedactingLoggerProvider(ILoggerProvider inner, SecretValues secrets) : ILoggerProvider, ISupportExternalScope
{
    public ILogger CreateLogger(string categoryName) => new RedactingLogger(inner.CreateLogger(categoryName), secrets);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => (inner as ISupportExternalScope)?.SetScopeProvider(scopeProvider);

    public void Dispose() => inner.Dispose();

    private sealed class RedactingLogger(ILogger inner, SecretValues secrets) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (secrets.IsEmpty)
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
                return;
            }

            var message = secrets.Redact(formatter(state, exception));
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? pairs.Select(p => new KeyValuePair<string, object?>(p.Key, p.Value is string s ? secrets.Redact(s) : p.Value)).ToList()
                : [];
            inner.Log(logLevel, eventId, new RedactedState(values, message), exception, static (s, _) => s.Message);
        }
    }

    private sealed class RedactedState(List<KeyValuePair<string, object?>> values, string message) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public string Message => message;

        public KeyValuePair<string, object?> this[int index] => values[index];

        public int Count => values.Count;

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => values.GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => message;
    }
}

public static class SecretRedactionExtensions
{
    /// <summary>Masks configured secrets in everything the registered logger providers write.</summary>
    public static ILoggingBuilder AddSecretRedaction(this ILoggingBuilder logging)
    {
        var services = logging.Services;
        services.AddSingleton<SecretValues>();
        foreach (var descriptor in services.Where(d => d.ServiceType == typeof(ILoggerProvider)).ToList())
        {
            services.Remove(descriptor);
            services.Add(ServiceDescriptor.Singleton<ILoggerProvider>(sp => new RedactingLoggerProvider(Create(sp, descriptor), sp.GetRequiredService<SecretValues>())));
        }

        return logging;
    }

    private static ILoggerProvider Create(IServiceProvider services, ServiceDescriptor descriptor) =>
        descriptor.ImplementationInstance as ILoggerProvider
        ?? descriptor.ImplementationFactory?.Invoke(services) as ILoggerProvider
        ?? (ILoggerProvider)ActivatorUtilities.CreateInstance(services, descriptor.ImplementationType!);
}
