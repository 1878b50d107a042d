namespace Anchor.Orleans.Grains.Interfaces.Errors;

/// <summary>
/// A refusal or failure an agent should read: a stable <see cref="Code"/> from <see cref="ErrorCodes"/> and a
/// message safe to show (never a secret, never a stack trace). Crosses grain calls intact.
/// </summary>
[GenerateSerializer, Alias("anchor.AnchorException")]
public sealed class AnchorException : Exception
{
    public AnchorException(string code, string message, TimeSpan? retryAfter = null)
        : base(message)
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
        : base(message, innerException)
    {
        Code = ErrorCodes.BrowserError;
    }

    [Id(0)]
    public string Code { get; init; }

    /// <summary>When the caller may try again (rate limits), if known.</summary>
    [Id(1)]
    public TimeSpan? RetryAfter { get; init; }
}
