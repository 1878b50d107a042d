namespace Anchor.Orleans.Grains.Interfaces.Errors;

/// <summary>
/// The stable refusal codes of SPEC.md. Tool errors begin with one; problem details carry one as <c>type</c>.
/// Clients branch on these strings, so they never change.
/// </summary>
public static class ErrorCodes
{
    public const string RateLimited = "rate_limited";
    public const string BudgetExceeded = "budget_exceeded";
    public const string ConcurrencyLimit = "concurrency_limit";
    public const string EmergencyShutdown = "emergency_shutdown";
    public const string ToolNotAllowed = "tool_not_allowed";
    public const string SessionNotFound = "session_not_found";
    public const string SessionExpired = "session_expired";
    public const string UrlBlocked = "url_blocked";
    public const string InvalidArgument = "invalid_argument";
    public const string Timeout = "timeout";
    public const string BrowserError = "browser_error";
    public const string StorageUnavailable = "storage_unavailable";
    public const string HumanInControl = "human_in_control";

    // HTTP-only codes.
    public const string Unauthorized = "unauthorized";
    public const string Forbidden = "forbidden";
    public const string NotFound = "not_found";
    public const string MethodNotAllowed = "method_not_allowed";
    public const string Unavailable = "unavailable";
    public const string InternalError = "internal_error";
}
