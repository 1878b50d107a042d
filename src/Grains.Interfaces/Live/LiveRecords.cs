namespace Anchor.Orleans.Grains.Interfaces.Live;

/// <summary>What a live link grants: watching the session, or watching and driving it.</summary>
public enum LiveMode
{
    View,
    Control,
}

/// <summary>A minted live link as stored (never the token itself: its grain is keyed by the token's SHA-256).</summary>
[GenerateSerializer, Immutable, Alias("anchor.LiveLink")]
public sealed record LiveLink(
    [property: Id(0)] string SessionId,
    [property: Id(1)] LiveMode Mode,
    [property: Id(2)] DateTimeOffset ExpiresAt,
    [property: Id(3)] string MintedBy,
    [property: Id(4)] string? HandoffId = null);

/// <summary>Why a live link may not be used (null from a check means it may).</summary>
public enum LiveLinkRefusal
{
    Unknown,
    Used,
    Expired,
    Revoked,
}

/// <summary>The answer to opening or checking a link: the link when it may be used, otherwise why not.</summary>
[GenerateSerializer, Immutable, Alias("anchor.LiveLinkCheck")]
public sealed record LiveLinkCheck(
    [property: Id(0)] LiveLink? Link,
    [property: Id(1)] LiveLinkRefusal? Refusal);

/// <summary>One screencast frame of a session's current tab, with what the viewer shows around it.</summary>
[GenerateSerializer, Immutable, Alias("anchor.LiveFrame")]
public sealed record LiveFrame(
    [property: Id(0)] byte[] Jpeg,
    [property: Id(1)] string Url,
    [property: Id(2)] string Title,
    [property: Id(3)] IReadOnlyList<string> Tabs,
    [property: Id(4)] int CurrentTab,
    [property: Id(5)] DateTimeOffset CapturedAt,
    [property: Id(6)] bool ControlHeld);

/// <summary>
/// One input event from a person in control: <see cref="Kind"/> is <c>mouse</c>, <c>wheel</c> or <c>key</c>. Mouse
/// positions are fractions (0..1) of the frame the person sees; the session scales them to the page's viewport.
/// </summary>
[GenerateSerializer, Immutable, Alias("anchor.LiveInput")]
public sealed record LiveInput(
    [property: Id(0)] string Kind,
    [property: Id(1)] string Type,
    [property: Id(2)] double X = 0,
    [property: Id(3)] double Y = 0,
    [property: Id(4)] string? Button = null,
    [property: Id(5)] int ClickCount = 0,
    [property: Id(6)] double DeltaX = 0,
    [property: Id(7)] double DeltaY = 0,
    [property: Id(8)] string? Key = null,
    [property: Id(9)] string? Code = null,
    [property: Id(10)] string? Text = null,
    [property: Id(11)] int Modifiers = 0);

/// <summary>How a hand-off to a person ended, reported once on the agent's next action (<c>_meta["anchor/handoff"]</c>).</summary>
[GenerateSerializer, Immutable, Alias("anchor.HandoffOutcome")]
public sealed record HandoffOutcome(
    [property: Id(0)] string HandoffId,
    [property: Id(1)] string Outcome,
    [property: Id(2)] DateTimeOffset At);
