using System.Security.Cryptography;
using Anchor.Orleans.Grains.Hosting;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Anchor.Orleans.Grains.Profiles;

/// <summary>
/// At start, brings the key ring in Redis to the current certificate: keys stored in the clear (before a certificate
/// was configured) or encrypted to a previous certificate are re-encrypted to the current one, each replaced only if
/// no other silo changed it meanwhile. Logs what the ring holds, so an operator knows when a previous certificate is
/// no longer needed (docs/runbooks/key-ring-rotation.md). A Redis outage here never stops the silo.
/// </summary>
public sealed partial class KeyRingMaintenance(
    KeyRingCertificates certificates,
    RedisConnection redis,
    IServiceProvider services,
    ILoggerFactory loggerFactory,
    ILogger<KeyRingMaintenance> logger) : IHostedService
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (certificates.Current is not { } current)
        {
            return;
        }

        try
        {
            var database = (await redis.GetAsync().WaitAsync(Deadline, cancellationToken)).GetDatabase();
            var decryptor = new EncryptedXmlDecryptor(services);
            var encryptor = new CertificateXmlEncryptor(current, loggerFactory);
            var decryptable = certificates.All.Select(c => c.Thumbprint).ToList();
            for (var attempt = 1; ; attempt++)
            {
                var stored = await database.ListRangeAsync(ProfilesRegistration.KeyRingKey).WaitAsync(Deadline, cancellationToken);
                var results = stored.Select(item => KeyRingRewrap.Rewrap(item.ToString(), current, decryptable, decryptor, encryptor)).ToList();
                var changes = results.Select((r, i) => (Index: i, r.Replacement)).Where(c => c.Replacement is not null).ToList();
                if (changes.Count > 0)
                {
                    // Data Protection only appends to the list, so an index still holding what was read is that key.
                    var transaction = database.CreateTransaction();
                    foreach (var (index, replacement) in changes)
                    {
                        transaction.AddCondition(Condition.ListIndexEqual(ProfilesRegistration.KeyRingKey, index, stored[index]));
                        _ = transaction.ListSetByIndexAsync(ProfilesRegistration.KeyRingKey, index, replacement);
                    }

                    if (!await transaction.ExecuteAsync().WaitAsync(Deadline, cancellationToken))
                    {
                        // Another silo re-encrypted the same keys first: read again (it, or the next start, finishes).
                        if (attempt < 3)
                        {
                            continue;
                        }

                        LogContended(logger);
                        return;
                    }
                }

                var missing = results.Where(r => r.MissingThumbprint is not null).Select(r => r.MissingThumbprint!).Distinct().Order(StringComparer.Ordinal).ToList();
                var count = (KeyRingEntryState state) => results.Count(r => r.State == state);
                if (missing.Count > 0)
                {
                    LogUnreadable(logger, count(KeyRingEntryState.Unreadable), string.Join(", ", missing), current.Thumbprint);
                }

                LogSummary(logger, results.Count, current.Thumbprint, count(KeyRingEntryState.Current), count(KeyRingEntryState.Rewrapped), count(KeyRingEntryState.Encrypted), count(KeyRingEntryState.Unreadable));
                return;
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or CryptographicException or System.Xml.XmlException)
        {
            LogFailed(logger, ex);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Key ring: {Entries} entries, encrypted to certificate {Thumbprint}: {Current} already were, {Rewrapped} re-encrypted from a previous certificate, {Encrypted} were unencrypted and now are; {Unreadable} need a certificate this silo does not have")]
    private static partial void LogSummary(ILogger logger, int entries, string thumbprint, int current, int rewrapped, int encrypted, int unreadable);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Key ring: {Unreadable} keys are encrypted to certificates {Thumbprints} that are not configured (current {Current}); profiles they sealed cannot be opened until one of them is added as a previous certificate (docs/runbooks/key-ring-rotation.md)")]
    private static partial void LogUnreadable(ILogger logger, int unreadable, string thumbprints, string current);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Key ring: other silos kept changing it; re-encryption is left to them or to the next start")]
    private static partial void LogContended(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Key ring: could not check or re-encrypt the keys in Redis at start; they stay as they are")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
