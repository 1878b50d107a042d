namespace Anchor.Orleans.Grains.Interfaces.Errors;

/// <summary>
/// A refusal or failure an agent should read: a stable <see cref="Code"/> from <see cref="ErrorCodes"/> and a
/// message safe to show (never a secret, never a stack trace), <c>"{code}: {detail}"</c>. Crosses grain calls intact.
/// </summary>
[GenerateSerializer, Alias("anchor.AnchorException")]
public sealed class AnchorException : Exception
{
    /// <summary>
    /// A refusal whose <see cref="Exception.Message"/> is <c>"{code}: {detail}"</c>: a site writes only the detail.
    /// A <paramref name="detail"/> that already starts with <c>"{code}: "</c> is kept as it is (not prefixed twice):
    /// a refusal carried over whole from another answer (a lease's, the egress proxy's, the emergency switch's reason).
    /// </summary>
    public AnchorException(string code, string detail, TimeSpan? retryAfter = null)
        : base(Compose(code, detail))
    {
        Code = code;
        RetryAfter = retryAfter;
    }

    public AnchorException()
        : this(ErrorCodes.BrowserError, "Unspecified failure.")
    {
    }

    public AnchorException(string message)
        : this(ErrorCodes.BrowserError, message)
    {
    }

    public AnchorException(string message, Exception innerException)
        : base(Compose(ErrorCodes.BrowserError, message), innerException)
    {
        Code = ErrorCodes.BrowserError;
    }

    [Id(0)]
    public string Code { get; init; }

    /// <summary>When the caller may try again (rate limits), if known.</summary>
    [Id(1)]
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>The text an agent reads for <paramref name="code"/> and <paramref name="detail"/>: <c>"{code}: {detail}"</c>.</summary>
    public static string Compose(string code, string detail)
    {
        ArgumentNullException.ThrowIfNull(code);
        ArgumentNullException.ThrowIfNull(detail);
        var prefix = code + ": ";
        return detail.StartsWith(prefix, StringComparison.Ordinal) ? detail : prefix + detail;
    }
}
