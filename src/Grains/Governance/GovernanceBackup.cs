using Anchor.Orleans.Grains.Admission;
using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Interfaces.Budgets;
using Anchor.Orleans.Grains.Interfaces.EmergencyStop;
using Anchor.Orleans.Grains.Interfaces.Errors;

namespace Anchor.Orleans.Grains.Governance;

/// <summary>
/// A backup of the governance state: every ledger period known to the index, and the emergency switch. Its own
/// records (<see cref="LedgerBackup"/>), not the grains' storage classes, so storage can change without breaking backups.
/// </summary>
public sealed record GovernanceExport(int FormatVersion, DateTimeOffset ExportedAt, IReadOnlyList<LedgerBackup> Ledgers, EmergencyStopState EmergencyStop)
{
    public const int CurrentFormat = 1;
}

/// <summary>Exports and restores <see cref="GovernanceExport"/>. A restore replaces each listed ledger and the switch.</summary>
public sealed class GovernanceBackup(IGrainFactory grains, LedgerRoomView rooms, TimeProvider time)
{
    public async Task<GovernanceExport> ExportAsync(CancellationToken cancellationToken = default)
    {
        var periods = await grains.GetGrain<ILedgerIndexGrain>(0).ListAsync(cancellationToken);
        var ledgers = await Task.WhenAll(periods.Select(p => grains.GetGrain<IBudgetLedgerGrain>(p).GetSnapshotAsync(cancellationToken)));
        var emergency = await grains.GetGrain<IEmergencyStopGrain>(0).GetStateAsync(cancellationToken);
        return new GovernanceExport(GovernanceExport.CurrentFormat, time.GetUtcNow(), ledgers, emergency);
    }

    public async Task ImportAsync(GovernanceExport backup, CancellationToken cancellationToken = default)
    {
        if (backup.FormatVersion != GovernanceExport.CurrentFormat)
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, $"backup format {backup.FormatVersion} is not supported (expected {GovernanceExport.CurrentFormat}).");
        }

        if (backup.Ledgers.FirstOrDefault(l => !BudgetPeriods.IsValid(l.Period)) is { } bad)
        {
            throw new AnchorException(ErrorCodes.InvalidArgument, $"'{bad.Period}' is not a budget period.");
        }

        try
        {
            await Task.WhenAll(backup.Ledgers.Select(l => grains.GetGrain<IBudgetLedgerGrain>(l.Period).RestoreAsync(l, cancellationToken)));
        }
        finally
        {
            rooms.Changed();
        }

        await grains.GetGrain<IEmergencyStopGrain>(0).RestoreAsync(backup.EmergencyStop, cancellationToken);
    }
}
