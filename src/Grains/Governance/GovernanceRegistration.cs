using Anchor.Orleans.Grains.Admission;
using Anchor.Orleans.Grains.Alerts;
using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.EmergencyStop;
using Anchor.Orleans.Grains.Hosting;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Governance;

public static class GovernanceRegistration
{
    /// <summary>
    /// Admission, session budgets, the emergency switch's per-silo view, reports and backup. Needs the grain options
    /// and client policies (<c>AddAnchorGrainOptions</c>, <c>AddClientPolicies</c>) and a <see cref="TimeProvider"/>.
    /// </summary>
    public static IServiceCollection AddAnchorGovernance(this IServiceCollection services)
    {
        services.AddAnchorOptions<EmergencyStopOptions>(EmergencyStopOptions.SectionName);
        services.AddSingleton<IValidateOptions<EmergencyStopOptions>, EmergencyStopOptionsValidator>();

        services.AddSingleton<EmergencyStopView>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<EmergencyStopView>());
        services.TryAddSingleton<IEmergencySessionCloser, RegistrySessionCloser>();
        services.TryAddSingleton<IAlertSink, LoggingAlertSink>();

        // Incremental grain storage (ledgers, rate limiters, …): Redis when the silo registered it, memory otherwise.
        services.TryAddSingleton<Persistence.IEntryStateStore, Persistence.MemoryEntryStateStore>();
        services.AddSingleton<LedgerRoomView>();
        services.AddSingleton<IToolAdmission, GovernedToolAdmission>();
        services.AddSingleton<ISessionBudget, LedgerSessionBudget>();
        services.AddSingleton<BudgetStatus>();
        services.AddSingleton<Operations.ISpendSnapshotSource, LedgerSpendSnapshot>();
        services.AddSingleton<Alerts.Reports.ICostReportSource, LedgerCostReportSource>();
        services.AddSingleton<GovernanceBackup>();
        return services;
    }
}
