// The namespace stays that of the Sessions folder: grain storage may record the type's full name with the state,
// and checkpoints already in Redis must still load.
namespace Anchor.Orleans.Grains.Sessions;

/// <summary>
/// What a session keeps in grain storage (Redis in cluster mode) so it can be rebuilt on another silo: its owner,
/// lifetime and money, and its browser's tabs, cookies and localStorage (encrypted). Written after actions that may change the
/// page, in the background (<see cref="Moves.SessionCheckpointing"/>); removed when the session ends.
/// </summary>
[GenerateSerializer, Alias("anchor.SessionCheckpoint")]
public sealed class SessionCheckpoint
{
    [Id(0)]
    public string ClientId { get; set; } = "";

    [Id(1)]
    public DateTimeOffset OpenedAt { get; set; }

    [Id(2)]
    public DateTimeOffset ExpiresAt { get; set; }

    [Id(3)]
    public int Actions { get; set; }

    [Id(4)]
    public decimal ActionsUsd { get; set; }

    [Id(5)]
    public decimal ReservedUsd { get; set; }

    /// <summary>Tab URLs in plain text, as checkpoints before encrypted tabs kept them: read, never written.</summary>
    [Id(6)]
    public List<string> Tabs { get; set; } = [];

    [Id(7)]
    public int CurrentTab { get; set; }

    [Id(8)]
    public int? ViewportWidth { get; set; }

    [Id(9)]
    public int? ViewportHeight { get; set; }

    /// <summary>
    /// Playwright's storage state (JSON) encrypted with Data Protection, or null when it was larger than
    /// <c>Sessions:CheckpointMaxBytes</c>.
    /// </summary>
    [Id(10)]
    public string? StorageState { get; set; }

    [Id(11)]
    public bool StorageOmitted { get; set; }

    [Id(12)]
    public DateTimeOffset TakenAt { get; set; }

    /// <summary>
    /// The tabs' URLs (a JSON array) encrypted like <see cref="StorageState"/>: a URL may carry a token in its query
    /// string, and a Redis dump must not show where an agent was signed in.
    /// </summary>
    [Id(13)]
    public string? ProtectedTabs { get; set; }

    /// <summary>
    /// How many times the session was restored after losing its silo. A page that takes a silo down would take the
    /// next one down too: past <c>SessionRestores.MaxLossRestores</c> the session is not restored again.
    /// </summary>
    [Id(14)]
    public int LossRestores { get; set; }

    /// <summary>The silo that held the session when this checkpoint was taken (where a move starts, for its timeline).</summary>
    [Id(15)]
    public string? Silo { get; set; }

    public bool Exists => ClientId.Length > 0;
}
