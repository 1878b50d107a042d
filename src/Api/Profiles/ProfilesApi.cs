using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Api.Problems;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Profiles;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Api.Profiles;

/// <summary>Operators' view of saved profiles: list every client's (names and sizes, never contents), delete one.</summary>
public static class ProfilesApi
{
    public static IEndpointRouteBuilder MapProfilesApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/profiles").RequireAuthorization(AuthPolicies.Operator);
        group.MapGet("/", ListAsync);
        group.MapGet("/{clientId}", ListClientAsync);
        group.MapDelete("/{clientId}/{name}", DeleteAsync).ProducesProblem(StatusCodes.Status404NotFound);
        return endpoints;
    }

    /// <summary>Every configured client's profiles (profiles belong to API-key clients, so those are all there are).</summary>
    private static async Task<Ok<ProfileList>> ListAsync(IGrainFactory grains, IOptionsMonitor<AuthOptions> auth)
    {
        var clients = auth.CurrentValue.ApiKeys.Select(k => k.ClientId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var lists = await Task.WhenAll(clients.Select(c => grains.GetGrain<IClientProfilesGrain>(c).ListAsync()));
        return TypedResults.Ok(ProfileList.Of([.. lists.SelectMany(l => l)]));
    }

    private static async Task<Ok<ProfileList>> ListClientAsync(string clientId, IGrainFactory grains) =>
        TypedResults.Ok(ProfileList.Of(await grains.GetGrain<IClientProfilesGrain>(clientId).ListAsync()));

    private static async Task<Results<NoContent, ProblemResult>> DeleteAsync(string clientId, string name, IGrainFactory grains) =>
        await grains.GetGrain<IClientProfilesGrain>(clientId).DeleteAsync(name)
            ? TypedResults.NoContent()
            : ProblemResponses.Result(ErrorCodes.InvalidArgument, StatusCodes.Status404NotFound, $"Client '{clientId}' has no profile '{name}'.");
}

/// <summary>Saved profiles, as operators see them.</summary>
public sealed record ProfileList(int Count, IReadOnlyList<ProfileSummary> Profiles)
{
    public static ProfileList Of(IReadOnlyList<ProfileInfo> profiles) =>
        new(profiles.Count, [.. profiles.Select(ProfileSummary.Of)]);
}

/// <summary>A saved profile as its owner (<c>browser_profile_*</c>) and operators see it: never its contents.</summary>
public sealed record ProfileSummary(string ClientId, string Name, DateTimeOffset SavedAt, int Cookies, int Origins, int Bytes)
{
    public static ProfileSummary Of(ProfileInfo p) => new(p.ClientId, p.Name, p.SavedAt, p.Cookies, p.Origins, p.Bytes);
}
