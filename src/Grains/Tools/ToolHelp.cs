using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Sessions;

namespace Anchor.Orleans.Grains.Tools;

/// <summary>The parameter descriptions many browser tools share, and how they read the element an agent named.</summary>
public static class ToolHelp
{
    public const string SessionId = "Browser session to use, from browser_session_create. Omit to use your default session (opened on first use).";
    public const string Target = "The element: a ref from the latest browser_snapshot (e.g. e6) or a unique Playwright selector (e.g. #submit, text=Sign in).";
    public const string Ref = "Alias of target, for agents written for older @playwright/mcp versions.";
    public const string Selector = "Alias of target: a Playwright selector.";
    public const string Element = "Human-readable description of the element, used in the answer and logs.";
    public const string FileName = "Ignored: the result is returned in the answer, never written to the server's disk.";

    /// <summary>The element an agent named: <c>target</c>, or its older aliases <c>ref</c> and <c>selector</c>.</summary>
    public static ElementTarget ElementOf(string? target, string? @ref, string? selector, string? element) =>
        new((target ?? @ref ?? selector) is { Length: > 0 } t
            ? t
            : throw new AnchorException(ErrorCodes.InvalidArgument, "target is required: a ref from browser_snapshot (e.g. e6) or a Playwright selector."),
            element);
}
