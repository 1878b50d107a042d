using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Budgets;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Tests.Sessions;

/// <summary>Stand-ins for what a session's collaborators are given: options, the budget, grain storage, the page.</summary>
internal static class SessionTestParts
{
    public static readonly DateTimeOffset T0 = new(2026, 3, 2, 10, 0, 0, TimeSpan.Zero);

    internal sealed class Fixed<T>(T value) : IOptionsMonitor<T>
    {
        public T CurrentValue => value;

        public T Get(string? name) => value;

        public IDisposable? OnChange(Action<T, string?> listener) => null;
    }

    /// <summary>Records reservations and settlements; refuses a reservation once <see cref="LimitUsd"/> would be passed.</summary>
    internal sealed class Budget : ISessionBudget
    {
        public List<(string Id, string ClientId, DateTimeOffset OpenedAt, decimal AmountUsd)> Reserved { get; } = [];

        public List<(string Id, decimal? ActualUsd)> Settled { get; } = [];

        public decimal LimitUsd { get; set; } = decimal.MaxValue;

        public Task ReserveAsync(string sessionId, string clientId, DateTimeOffset openedAt, decimal amountUsd, CancellationToken cancellationToken = default)
        {
            if (Reserved.Sum(r => r.AmountUsd) + amountUsd > LimitUsd)
            {
                throw new Interfaces.Errors.AnchorException(Interfaces.Errors.ErrorCodes.BudgetExceeded, "budget_exceeded: test budget spent.");
            }

            Reserved.Add((sessionId, clientId, openedAt, amountUsd));
            return Task.CompletedTask;
        }

        public Task SettleAsync(string sessionId, string clientId, DateTimeOffset openedAt, decimal? actualUsd, CancellationToken cancellationToken = default)
        {
            Settled.Add((sessionId, actualUsd));
            return Task.CompletedTask;
        }
    }

    /// <summary>Grain storage in memory, counting writes and clears.</summary>
    internal sealed class Storage<T> : IPersistentState<T>
        where T : new()
    {
        public T State { get; set; } = new();

        public string? Etag { get; private set; }

        public bool RecordExists { get; private set; }

        public int Writes { get; private set; }

        public int Clears { get; private set; }

        public Task ClearStateAsync()
        {
            State = new();
            RecordExists = false;
            Clears++;
            return Task.CompletedTask;
        }

        public Task WriteStateAsync()
        {
            RecordExists = true;
            Writes++;
            Etag = Writes.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Task.CompletedTask;
        }

        public Task ReadStateAsync() => Task.CompletedTask;
    }

    /// <summary>A page that answers a fixed checkpoint and records when (on the test clock) it was read.</summary>
    internal sealed class Page(TimeProvider time, PageCheckpoint taken) : IPageCheckpoints
    {
        public List<DateTimeOffset> ReadAt { get; } = [];

        public Task<PageCheckpoint> CheckpointAsync(TimeSpan limit, CancellationToken cancellationToken)
        {
            lock (ReadAt)
            {
                ReadAt.Add(time.GetUtcNow());
            }

            return Task.FromResult(taken);
        }
    }
}
