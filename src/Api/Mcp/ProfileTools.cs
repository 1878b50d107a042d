using System.ComponentModel;
using Anchor.Orleans.Api.Profiles;
using Anchor.Orleans.Grains.Interfaces.Profiles;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Tools;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Anchor.Orleans.Api.Mcp;

/// <summary>
/// Saved profiles: a session's logins (cookies, localStorage) kept under a name, encrypted at rest, for the caller
/// only; <c>browser_session_create { profile }</c> opens a session from one.
/// </summary>
[McpServerToolType]
public sealed class ProfileTools(IGrainFactory grains)
{
    private const string NameHelp = "Profile name: 1 to 64 letters, digits, '.', '_' or '-'.";

    [McpServerTool(Name = "browser_profile_save", Title = "Save browser profile", Destructive = false, Idempotent = true, OpenWorld = false, UseStructuredContent = true)]
    [Description("Saves the session's cookies and localStorage (its logins) as a named profile of yours, replacing one of the same name. Open a logged-in session later with browser_session_create { profile }. Profiles are encrypted at rest and visible to you only.")]
    public async Task<ProfileSummary> SaveAsync(
        RequestContext<CallToolRequestParams> context,
        [Description(NameHelp)] string name,
        [Description(BrowserTools.SessionIdHelp)] string? session_id = null,
        CancellationToken cancellationToken = default)
    {
        var clientId = ToolContext.ClientIdOf(context.User);
        var (id, _) = ToolContext.Resolve(session_id, clientId);
        var saved = await grains.GetGrain<IBrowserSessionGrain>(id).SaveProfileAsync(clientId, name, cancellationToken);
        return ProfileSummary.Of(saved);
    }

    [ToolFacts(Free = true)]
    [McpServerTool(Name = "browser_profile_list", Title = "List browser profiles", ReadOnly = true, Idempotent = true, OpenWorld = false, UseStructuredContent = true)]
    [Description("Lists your saved profiles: name, when saved, how many cookies and origins (localStorage) each holds, and its size. Never their contents.")]
    public async Task<ProfilesListed> ListAsync(RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken = default)
    {
        var clientId = ToolContext.ClientIdOf(context.User);
        var profiles = await grains.GetGrain<IClientProfilesGrain>(clientId).ListAsync();
        return new ProfilesListed([.. profiles.Select(ProfileSummary.Of)]);
    }

    [ToolFacts(Free = true)]
    [McpServerTool(Name = "browser_profile_delete", Title = "Delete browser profile", Destructive = true, Idempotent = true, OpenWorld = false, UseStructuredContent = true)]
    [Description("Deletes one of your saved profiles. Deleting a profile that does not exist is not an error. Sessions already opened from it are not affected.")]
    public async Task<ProfileDeleted> DeleteAsync(
        RequestContext<CallToolRequestParams> context,
        [Description(NameHelp)] string name,
        CancellationToken cancellationToken = default)
    {
        var clientId = ToolContext.ClientIdOf(context.User);
        Grains.Profiles.ClientProfilesGrain.CheckName(name);
        var deleted = await grains.GetGrain<IClientProfilesGrain>(clientId).DeleteAsync(name);
        return new ProfileDeleted(name, deleted);
    }
}

/// <summary>What <c>browser_profile_list</c> answers: the caller's saved profiles.</summary>
public sealed record ProfilesListed(IReadOnlyList<ProfileSummary> Profiles);

/// <summary>What <c>browser_profile_delete</c> answers: whether a profile of that name was there to delete.</summary>
public sealed record ProfileDeleted(string Name, bool Deleted);
