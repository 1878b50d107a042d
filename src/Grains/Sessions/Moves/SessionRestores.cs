using Anchor.Orleans.Grains.Interfaces.Sessions;

namespace Anchor.Orleans.Grains.Sessions.Moves;

/// <summary>The rules of a session rebuilt on another silo from its checkpoint, and what its next answer tells the agent.</summary>
public static class SessionRestores
{
    /// <summary>
    /// How many times a session is rebuilt after losing its silo. A hostile page that took one silo down would take each
    /// next one down when its checkpoint replays it; the session lost once more is ended instead of restored.
    /// </summary>
    public const int MaxLossRestores = 2;

    /// <summary>Why the session moved: "drained" (its silo parked it, with its cost) or "lost" (its silo died).</summary>
    public static string How(SessionLease lease) => lease.ParkedCostUsd is null ? "lost" : "drained";

    /// <summary>Whether a session that moved as <paramref name="how"/> may be rebuilt from <paramref name="saved"/>.</summary>
    public static bool MayRestore(string how, SessionCheckpoint saved) => how != "lost" || saved.LossRestores < MaxLossRestores;

    /// <summary>The note put before the first answer after a restore.</summary>
    public static string Note(SessionRestored restored)
    {
        var why = restored.Reason == "drained" ? "its silo was shut down" : "its silo was lost";
        var text = $"### Session restored\nThis session moved to another silo ({why}) and was rebuilt from its checkpoint of {restored.CheckpointAt:O}: "
            + $"{restored.Tabs} tab(s) reopened at their URLs, cookies and localStorage restored. Form input that was not submitted and in-page script state were not kept. "
            + "Element refs from before are no longer valid: take a new browser_snapshot.";
        return restored.NotRestored.Count == 0 ? text : text + "\nNot restored:\n" + string.Join('\n', restored.NotRestored.Select(p => $"- {p}"));
    }
}
