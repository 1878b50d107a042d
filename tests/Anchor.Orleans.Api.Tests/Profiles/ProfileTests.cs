using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Anchor.Orleans.Grains.Profiles;
using Anchor.Orleans.Testing;
using StackExchange.Redis;

namespace Anchor.Orleans.Api.Tests.Profiles;

/// <summary>A silo with real Chromium whose grain storage (and Data Protection key ring) is a real Redis.</summary>
public sealed class RedisBrowserFixture : IAsyncLifetime
{
    public RedisServer Redis { get; } = new();

    public FixtureSite Site { get; } = new();

    public AnchorAppHost Host { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        await Redis.InitializeAsync();
        await Site.InitializeAsync();
        Host = await AnchorAppHost.StartAsync(BrowserAppFixture.BaseSettings(
            ("Anchor:Storage:Provider", "Redis"),
            ("Anchor:Redis:ConnectionString", Redis.ConnectionString)));
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await Site.DisposeAsync();
        await Redis.DisposeAsync();
    }
}

/// <summary>Saved profiles end to end: a login saved by one client opens logged-in sessions for it and for no one else.</summary>
public sealed class ProfileTests(RedisBrowserFixture fixture) : IClassFixture<RedisBrowserFixture>
{
    [Fact]
    public async Task SavedProfile_OpensALoggedInSession_InvisibleAndUnusableToAnotherClient_StoredEncrypted()
    {
        await using var a = await McpTestClient.ConnectAsync(fixture.Host, TestKeys.Agent);
        await using var b = await McpTestClient.ConnectAsync(fixture.Host, TestKeys.OtherAgent);

        // A logs in (the page sets a cookie) and saves the session as a profile.
        var login = SessionId(await a.CallAsync("browser_session_create"));
        await a.CallAsync("browser_navigate", new { url = fixture.Site.Url("/set-cookie"), session_id = login });
        var saved = await a.CallAsync("browser_profile_save", new { name = "oat-login", session_id = login });
        await a.CallAsync("browser_session_close", new { session_id = login });
        Assert.True(saved.IsError != true, saved.Text());
        Assert.Equal(("oat-login", "agent-a", 1, 0), (Str(saved, "name"), Str(saved, "client_id"), saved.Json().GetProperty("cookies").GetInt32(), saved.Json().GetProperty("origins").GetInt32()));

        // A new session from the profile is logged in.
        var again = SessionId(await a.CallAsync("browser_session_create", new { profile = "oat-login" }));
        var page = await a.CallAsync("browser_navigate", new { url = fixture.Site.Url("/cookie"), session_id = again });
        await a.CallAsync("browser_session_close", new { session_id = again });
        Assert.Contains("Cookie: flavour=oat", page.Text(), StringComparison.Ordinal);

        // B can neither list nor use it; a session of B's own starts without the cookie.
        var bList = await b.CallAsync("browser_profile_list");
        var bUse = await b.CallAsync("browser_session_create", new { profile = "oat-login" });
        Assert.Equal("[]", bList.Json().GetProperty("profiles").GetRawText());
        Assert.True(bUse.IsError == true);
        Assert.Equal("invalid_argument: you have no saved profile 'oat-login' (browser_profile_list shows yours).", bUse.Text());
        var aList = await a.CallAsync("browser_profile_list");
        Assert.Equal(["oat-login"], aList.Json().GetProperty("profiles").EnumerateArray().Select(p => p.GetProperty("name").GetString()));

        // At rest: Redis holds the profile sealed (neither the cookie's name nor its value appear) and the key ring.
        var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        await using (redis)
        {
            var db = redis.GetDatabase();
            var keys = redis.GetServer(redis.GetEndPoints()[0]).Keys(pattern: "*").ToList();
            var profileKeys = keys.Where(k => k.ToString().Contains("client-profiles", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(profileKeys);
            foreach (var key in keys.Where(k => db.KeyType(k) == RedisType.Hash))
            {
                foreach (var field in await db.HashGetAllAsync(key))
                {
                    var raw = Encoding.Latin1.GetString((byte[])field.Value!);
                    Assert.DoesNotContain("flavour", raw, StringComparison.Ordinal);
                    Assert.DoesNotContain("oat", raw.Replace("oat-login", "", StringComparison.Ordinal), StringComparison.Ordinal);
                }
            }

            Assert.Equal(RedisType.List, await db.KeyTypeAsync(ProfilesRegistration.KeyRingKey));
        }

        // Operators list every client's profiles and delete one; the owner sees it gone.
        using var http = new HttpClient { BaseAddress = fixture.Host.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestKeys.Operator);
        var all = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/profiles", UriKind.Relative), TestContext.Current.CancellationToken)).RootElement;
        Assert.Equal(1, all.GetProperty("count").GetInt32());
        Assert.Equal(("agent-a", "oat-login", 1), (all.GetProperty("profiles")[0].GetProperty("client_id").GetString(), all.GetProperty("profiles")[0].GetProperty("name").GetString(), all.GetProperty("profiles")[0].GetProperty("cookies").GetInt32()));

        var deleted = await http.DeleteAsync(new Uri("/api/profiles/agent-a/oat-login", UriKind.Relative), TestContext.Current.CancellationToken);
        var deletedAgain = await http.DeleteAsync(new Uri("/api/profiles/agent-a/oat-login", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, deletedAgain.StatusCode);
        Assert.Equal("application/problem+json", deletedAgain.Content.Headers.ContentType?.MediaType);
        Assert.Equal("[]", (await a.CallAsync("browser_profile_list")).Json().GetProperty("profiles").GetRawText());

        // Agents cannot reach the operator API.
        using var agentHttp = new HttpClient { BaseAddress = fixture.Host.BaseAddress };
        agentHttp.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestKeys.Agent);
        Assert.Equal(HttpStatusCode.Forbidden, (await agentHttp.GetAsync(new Uri("/api/profiles", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task ProfileTools_RefuseBadNames_AndUnknownProfiles_WithInvalidArgument()
    {
        await using var a = await McpTestClient.ConnectAsync(fixture.Host, TestKeys.Agent);

        var badName = await a.CallAsync("browser_profile_save", new { name = "no spaces/allowed" });
        var unknown = await a.CallAsync("browser_session_create", new { profile = "never-saved" });
        var deleteUnknown = await a.CallAsync("browser_profile_delete", new { name = "never-saved" });

        Assert.Equal("invalid_argument: a profile name is 1 to 64 letters, digits, '.', '_' or '-'.", badName.Text());
        Assert.Equal("invalid_argument: you have no saved profile 'never-saved' (browser_profile_list shows yours).", unknown.Text());
        Assert.Equal("{\"name\":\"never-saved\",\"deleted\":false}", deleteUnknown.Text());
    }

    private static string SessionId(ModelContextProtocol.Protocol.CallToolResult created) =>
        created.IsError == true ? throw new InvalidOperationException(created.Text()) : created.Json().GetProperty("session_id").GetString()!;

    private static string? Str(ModelContextProtocol.Protocol.CallToolResult result, string property) => result.Json().GetProperty(property).GetString();
}
