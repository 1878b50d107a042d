using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Clients;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Sessions.Billing;
using Anchor.Orleans.Grains.Sessions.Lifetime;
using Anchor.Orleans.Grains.Sessions.Moves;
using Anchor.Orleans.Grains.Telemetry;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Sessions;

/// <summary>The collaborators of one session activation (see <see cref="BrowserSessionGrain"/>).</summary>
public sealed record SessionParts(
    SessionAccount Account, SessionLifetime Lifetime, SessionCheckpointing Checkpoints, SessionBrowser Browser, SessionSlot Slot, SessionMover Mover);

/// <summary>
/// The per-silo services a session grain builds its collaborators from (one dependency of the grain instead of a dozen),
/// and the few it uses itself.
/// </summary>
public sealed class SessionServices(
    BrowserEngine engine,
    UrlPolicy urls,
    ClientPolicies policies,
    ISessionBudget budget,
    LocalSessions local,
    AnchorMetrics metrics,
    IOptionsMonitor<SessionsOptions> sessions,
    IOptionsMonitor<PricingOptions> pricing,
    IOptionsMonitor<BrowserOptions> browser,
    IDataProtectionProvider protection,
    IOptions<Hosting.AnchorHostingOptions> hosting,
    IGrainFactory grains,
    Timeline.ISessionTimeline timeline,
    Recording.SessionRecorder recorder,
    TimeProvider time)
{
    public LocalSessions Local => local;

    public AnchorMetrics Metrics => metrics;

    public TimeProvider Time => time;

    /// <summary>Where the session's events go (opened, restored, moved, live control, closed).</summary>
    public Timeline.ISessionTimeline Timeline => timeline;

    /// <summary>
    /// The collaborators of session <paramref name="sessionId"/> on silo <paramref name="siloName"/>: <paramref name="hostedPage"/>
    /// answers the page it holds open here (null once ended or moved); <paramref name="endMoved"/> settles and releases a
    /// session that moved here without its browser.
    /// </summary>
    public SessionParts Create(
        string sessionId,
        string siloName,
        IPersistentState<SessionCheckpoint> checkpoint,
        Func<IPageCheckpoints?> hostedPage,
        Func<SessionEndReason, Task<decimal>> endMoved,
        ILogger logger)
    {
        var durable = hosting.Value.Storage.Provider == Hosting.StorageProvider.Redis;
        var account = new SessionAccount(sessionId, budget, pricing);
        var lifetime = new SessionLifetime(time, sessions);
        var checkpoints = new SessionCheckpointing(sessionId, checkpoint, protection, sessions, durable, hostedPage, account, lifetime, metrics.Checkpoint, time, logger, siloName);
        var pages = new SessionBrowser(sessionId, engine, urls, policies, recorder, browser, sessions, time, logger);
        var slot = new SessionSlot(sessionId, siloName, grains, policies, account, pages, metrics, time, logger);
        var mover = new SessionMover(sessionId, siloName, grains, checkpoints, account, lifetime, pages, endMoved, timeline, metrics, time, logger);
        return new SessionParts(account, lifetime, checkpoints, pages, slot, mover);
    }
}
