namespace Anchor.Orleans.Grains.Recording;

/// <summary>What is recorded of a client's sessions (<c>Anchor:Clients:&lt;id&gt;:Recording</c>).</summary>
public enum SessionRecording
{
    /// <summary>Nothing (the default).</summary>
    Off,

    /// <summary>A Playwright trace: actions, screenshots, DOM snapshots and network log.</summary>
    Trace,
}

public static class SessionRecordings
{
    /// <summary>The configuration values, as written.</summary>
    public static readonly IReadOnlyList<string> Values = ["off", "trace"];

    /// <summary>The mode a configured value names (empty is off); null for anything else.</summary>
    public static SessionRecording? Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "off" => SessionRecording.Off,
        "trace" => SessionRecording.Trace,
        _ => null,
    };
}
