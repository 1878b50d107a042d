using System.Text.RegularExpressions;
using Anchor.Orleans.Grains.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Anchor.Orleans.Api.Logging;

/// <summary>
/// The secrets this process was configured with (API keys, metrics token, webhook URLs, routing keys, the Redis
/// password, the remote browser's CDP endpoint and its token), read from configuration and re-read when it reloads,
/// and the credentials of any URL. The one place that knows what to redact.
/// </summary>
public sealed class SecretValues
{
    public const string Mask = "[REDACTED]";

    /// <summary>Below this length a secret is masked only as a whole token, so a short password does not mask every word containing it.</summary>
    private const int ShortSecret = 8;

    private static readonly string[] CredentialParameters = ["token", "key", "secret", "auth", "pass", "sig"];
    private static readonly string[] SecretKeySuffixes = [":Key", ":Token", ":WebhookUrl", ":RoutingKey", "Alerts:Webhook:Url"];
    private volatile Secrets _secrets = new([], null);

    public SecretValues(IConfiguration configuration)
    {
        Load(configuration);
        ChangeToken.OnChange(configuration.GetReloadToken, () => Load(configuration));
    }

    /// <summary><paramref name="text"/> with every configured secret and every URL's <c>user:password@</c> masked.</summary>
    public string Redact(string text)
    {
        var secrets = _secrets;
        foreach (var secret in secrets.Long)
        {
            if (text.Contains(secret, StringComparison.Ordinal))
            {
                text = text.Replace(secret, Mask, StringComparison.Ordinal);
            }
        }

        if (secrets.Short is { } tokens)
        {
            text = tokens.Replace(text, Mask);
        }

        return AnchorTracing.WithoutCredentials(Live.LiveLinks.Redact(text)); // A live link is a credential in its path.
    }

    private void Load(IConfiguration configuration)
    {
        var values = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in configuration.AsEnumerable())
        {
            if (string.IsNullOrWhiteSpace(value) || !key.StartsWith("Anchor:", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (SecretKeySuffixes.Any(s => key.EndsWith(s, StringComparison.OrdinalIgnoreCase)))
            {
                values.Add(value);
            }
            else if (key.EndsWith(":ConnectionString", StringComparison.OrdinalIgnoreCase))
            {
                values.UnionWith(ConnectionStringPasswords(value));
            }
            else if (key.EndsWith(":CdpEndpoint", StringComparison.OrdinalIgnoreCase))
            {
                values.UnionWith(EndpointSecrets(value));
            }
        }

        values.RemoveWhere(string.IsNullOrWhiteSpace);
        _secrets = new Secrets(
            [.. values.Where(v => v.Length >= ShortSecret).OrderByDescending(v => v.Length)],
            values.Any(v => v.Length < ShortSecret) ? WholeTokens(values.Where(v => v.Length < ShortSecret)) : null);
    }

    /// <summary>StackExchange.Redis options are <c>key=value</c> separated by commas, each trimmed (<c>host:6379, password = x</c>).</summary>
    internal static IEnumerable<string> ConnectionStringPasswords(string connectionString) =>
        connectionString.Split(',')
            .Select(part => part.Split('=', 2))
            .Where(pair => pair.Length == 2 && pair[0].Trim().Equals("password", StringComparison.OrdinalIgnoreCase))
            .Select(pair => pair[1].Trim());

    /// <summary>
    /// A CDP endpoint (<c>wss://user:token@host/path?token=…</c>, as cloud browser providers issue them) is a secret
    /// whole, and so are its password and the values of query parameters that name a credential.
    /// </summary>
    internal static IEnumerable<string> EndpointSecrets(string endpoint)
    {
        yield return endpoint;
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri))
        {
            yield break;
        }

        if (uri.UserInfo is { Length: > 0 } userInfo)
        {
            yield return Uri.UnescapeDataString(userInfo.Contains(':', StringComparison.Ordinal) ? userInfo[(userInfo.IndexOf(':', StringComparison.Ordinal) + 1)..] : userInfo);
        }

        foreach (var parameter in uri.Query.TrimStart('?').Split('&'))
        {
            if (parameter.Split('=', 2) is [var name, var raw] && CredentialParameters.Any(c => name.Contains(c, StringComparison.OrdinalIgnoreCase)))
            {
                yield return Uri.UnescapeDataString(raw);
            }
        }
    }

    private static Regex WholeTokens(IEnumerable<string> secrets) =>
        new($"(?<![A-Za-z0-9])(?:{string.Join('|', secrets.OrderByDescending(s => s.Length).Select(Regex.Escape))})(?![A-Za-z0-9])", RegexOptions.CultureInvariant);

    private sealed record Secrets(string[] Long, Regex? Short);
}

/// <summary>
/// Wraps a logger provider so every message, structured value, scope value and exception text it writes has the
/// secrets masked. Scopes reach it as key=value lists (readable on the console, structured in JSON).
/// </summary>
public sealed class RedactingLoggerProvider(ILoggerProvider inner, SecretValues secrets) : ILoggerProvider, ISupportExternalScope
{
    public ILogger CreateLogger(string categoryName) => new RedactingLogger(inner.CreateLogger(categoryName), secrets);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) =>
        (inner as ISupportExternalScope)?.SetScopeProvider(new RedactingScopeProvider(scopeProvider, secrets));

    public void Dispose() => inner.Dispose();

    private sealed class RedactingLogger(ILogger inner, SecretValues secrets) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = secrets.Redact(formatter(state, exception));
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? pairs.Select(p => new KeyValuePair<string, object?>(p.Key, RedactValue(p.Value, secrets))).ToList()
                : [];
            inner.Log(logLevel, eventId, new RedactedState(values, message), RedactedException.Of(exception, secrets), static (s, _) => s.Message);
        }
    }

    internal static object? RedactValue(object? value, SecretValues secrets) => value switch
    {
        string s => secrets.Redact(s),
        Uri uri => secrets.Redact(uri.OriginalString),
        _ => value,
    };

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

/// <summary>
/// Hands the formatters every scope with secrets masked, a key=value list as <see cref="RedactedScope"/> (whose text
/// is <c>key=value, …</c>, where a dictionary would print its type name).
/// </summary>
internal sealed class RedactingScopeProvider(IExternalScopeProvider inner, SecretValues secrets) : IExternalScopeProvider
{
    public void ForEachScope<TState>(Action<object?, TState> callback, TState state) =>
        inner.ForEachScope((scope, s) => callback(Redact(scope), s), state);

    public IDisposable Push(object? state) => inner.Push(state);

    private object? Redact(object? scope) => scope switch
    {
        null => null,
        string text => secrets.Redact(text),
        // Also Dictionary<string, object>: nullability is not a runtime type.
        IEnumerable<KeyValuePair<string, object?>> pairs => new RedactedScope([.. pairs.Select(p => new KeyValuePair<string, object?>(p.Key, RedactingLoggerProvider.RedactValue(p.Value, secrets)))]),
        _ => secrets.Redact(scope.ToString() ?? ""),
    };
}

/// <summary>A structured scope as a list of fields that reads <c>key=value, key=value</c> as text.</summary>
public sealed class RedactedScope(List<KeyValuePair<string, object?>> values) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public KeyValuePair<string, object?> this[int index] => values[index];

    public int Count => values.Count;

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => values.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => string.Join(", ", values.Select(p => $"{p.Key}={p.Value}"));
}

/// <summary>
/// An exception as a log line shows it (type, message, inner exceptions, stack) with secrets masked; it stands in for
/// the original only when the original's text held a secret.
/// </summary>
public sealed class RedactedException : Exception
{
    private readonly string _text;

    private RedactedException(string message, string text, string? stackTrace)
        : base(message)
    {
        _text = text;
        StackTraceText = stackTrace;
    }

    /// <summary>The original's stack trace, masked.</summary>
    public string? StackTraceText { get; }

    public override string? StackTrace => StackTraceText;

    public override string ToString() => _text;

    public static Exception? Of(Exception? exception, SecretValues secrets)
    {
        if (exception is null)
        {
            return null;
        }

        var text = exception.ToString();
        var redacted = secrets.Redact(text);
        return text == redacted
            ? exception
            : new RedactedException(secrets.Redact(exception.Message), redacted, exception.StackTrace is { } stack ? secrets.Redact(stack) : null);
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
