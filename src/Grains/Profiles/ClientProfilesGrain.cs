using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Interfaces.Profiles;
using Anchor.Orleans.Grains.Persistence;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Serialization;

namespace Anchor.Orleans.Grains.Profiles;

/// <summary>A saved profile at rest: the storage state sealed by Data Protection, and what may be shown about it.</summary>
[GenerateSerializer, Alias("anchor.StoredProfile")]
public sealed class StoredProfile
{
    [Id(0)]
    public byte[] Sealed { get; set; } = [];

    [Id(1)]
    public DateTimeOffset SavedAt { get; set; }

    [Id(2)]
    public int Bytes { get; set; }

    [Id(3)]
    public int Cookies { get; set; }

    [Id(4)]
    public int Origins { get; set; }
}

/// <summary>Nothing beyond the entries; kept for the entry store's head.</summary>
[GenerateSerializer, Alias("anchor.ClientProfilesHead")]
public sealed class ClientProfilesHead
{
}

/// <summary>
/// One client's saved profiles. Each is an entry of its own (a save writes that profile only), sealed with ASP.NET
/// Core Data Protection under a purpose that names the client, so the stored bytes hold no cookie in the clear and
/// one client's profile cannot be unsealed as another's. Keys are shared by every silo (in Redis in cluster mode).
/// </summary>
public sealed partial class ClientProfilesGrain(
    IEntryStateStore store,
    Serializer serializer,
    IDataProtectionProvider protection,
    IOptionsMonitor<ProfilesOptions> options,
    TimeProvider time,
    ILogger<ClientProfilesGrain> logger) : Grain, IClientProfilesGrain
{
    private readonly EntryState<ClientProfilesHead, StoredProfile> _state = new(store, serializer, "client-profiles");
    private IDataProtector _protector = null!;

    private string ClientId => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _protector = protection.CreateProtector("Anchor.Orleans.Profiles.v1", ClientId);
        await _state.ReadAsync(this.GetGrainId(), cancellationToken);
    }

    public async Task<ProfileInfo> SaveAsync(string name, string storageState, CancellationToken cancellationToken = default)
    {
        CheckName(name);
        var o = options.CurrentValue;
        var plain = Encoding.UTF8.GetBytes(storageState);
        if (plain.Length > o.MaxBytes)
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, $"the session's cookies and storage take {plain.Length} bytes; a profile holds at most {o.MaxBytes}.");
        }

        if (!_state.Entries.ContainsKey(name) && _state.Entries.Count >= o.MaxPerClient)
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, $"this client already has {_state.Entries.Count} of {o.MaxPerClient} profiles; delete one (browser_profile_delete) first.");
        }

        var (cookies, origins) = Count(storageState);
        var stored = new StoredProfile { Sealed = _protector.Protect(plain), SavedAt = time.GetUtcNow(), Bytes = plain.Length, Cookies = cookies, Origins = origins };
        var before = _state.Entries.GetValueOrDefault(name);
        _state.Set(name, stored);
        try
        {
            await _state.WriteAsync(cancellationToken);
        }
        catch
        {
            if (before is null)
            {
                _state.Remove(name);
            }
            else
            {
                _state.Set(name, before);
            }

            throw;
        }

        LogSaved(logger, ClientId, name, cookies, origins);
        return Info(name, stored);
    }

    public Task<string?> LoadAsync(string name)
    {
        if (!_state.Entries.TryGetValue(name, out var stored))
        {
            return Task.FromResult<string?>(null);
        }

        try
        {
            return Task.FromResult<string?>(Encoding.UTF8.GetString(_protector.Unprotect(stored.Sealed)));
        }
        catch (CryptographicException ex)
        {
            // The key that sealed it is not in the ring this silo can read: the key ring's certificate changed without
            // the previous one (docs/runbooks/key-ring-rotation.md). The agent learns that this profile is unusable.
            LogUnreadable(logger, ex, ClientId, name);
            throw new AnchorException(ErrorCodes.InvalidArgument, $"the saved profile '{name}' can no longer be opened (the key that sealed it is not available); save it again from a logged-in session.");
        }
    }

    public Task<IReadOnlyList<ProfileInfo>> ListAsync() =>
        Task.FromResult<IReadOnlyList<ProfileInfo>>([.. _state.Entries.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => Info(e.Key, e.Value))]);

    public async Task<bool> DeleteAsync(string name)
    {
        if (!_state.Remove(name))
        {
            return false;
        }

        await _state.WriteAsync();
        LogDeleted(logger, ClientId, name);
        return true;
    }

    /// <summary>Profile names: letters, digits, '.', '_', '-'; 1 to 64.</summary>
    public static void CheckName(string? name)
    {
        if (name is null || !NamePattern().IsMatch(name))
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, "a profile name is 1 to 64 letters, digits, '.', '_' or '-'.");
        }
    }

    private ProfileInfo Info(string name, StoredProfile stored) => new(name, ClientId, stored.SavedAt, stored.Bytes, stored.Cookies, stored.Origins);

    private static (int Cookies, int Origins) Count(string storageState)
    {
        try
        {
            using var doc = JsonDocument.Parse(storageState);
            return (Length(doc.RootElement, "cookies"), Length(doc.RootElement, "origins"));
        }
        catch (JsonException)
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, "the storage state is not Playwright's JSON.");
        }

        static int Length(JsonElement root, string property) =>
            root.ValueKind == JsonValueKind.Object && root.TryGetProperty(property, out var list) && list.ValueKind == JsonValueKind.Array ? list.GetArrayLength() : 0;
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex NamePattern();

    [LoggerMessage(Level = LogLevel.Information, Message = "Profile {Name} of {ClientId} saved ({Cookies} cookies, {Origins} origins)")]
    private static partial void LogSaved(ILogger logger, string clientId, string name, int cookies, int origins);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Profile {Name} of {ClientId} cannot be unsealed: the Data Protection key that sealed it is not readable with the configured key ring certificates (docs/runbooks/key-ring-rotation.md)")]
    private static partial void LogUnreadable(ILogger logger, Exception exception, string clientId, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "Profile {Name} of {ClientId} deleted")]
    private static partial void LogDeleted(ILogger logger, string clientId, string name);
}
