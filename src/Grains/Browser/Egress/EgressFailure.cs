using Anchor.Orleans.Grains.Interfaces.Errors;

namespace Anchor.Orleans.Grains.Browser.Egress;

/// <summary>
/// A connection the browser's egress did not make, with why (for the agent) and the Chromium error a routed request
/// is aborted with. <c>url_blocked</c> when the policy refused the host (a blocked name or address, or a name that did
/// not resolve); <c>browser_error</c> when the network failed.
/// </summary>
public sealed class EgressFailure(string code, string reason, string abortCode) : Exception(reason)
{
    /// <summary>The agent-facing code: <c>url_blocked</c> or <c>browser_error</c>.</summary>
    public string Code { get; } = code;

    /// <summary>One of Playwright's <c>route.abort</c> error codes.</summary>
    public string AbortCode { get; } = abortCode;

    /// <summary>The policy refuses the host (<c>url_blocked</c>).</summary>
    public static EgressFailure Refused(string reason, string abortCode = "blockedbyclient") => new(ErrorCodes.UrlBlocked, reason, abortCode);

    /// <summary>The network failed (<c>browser_error</c>).</summary>
    public static EgressFailure Failed(string reason, string abortCode) => new(ErrorCodes.BrowserError, reason, abortCode);
}
