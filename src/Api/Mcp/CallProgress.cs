using System.Globalization;
using System.Runtime.CompilerServices;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Anchor.Orleans.Api.Mcp;

/// <summary>
/// MCP progress of one tool call whose client sent a <c>progressToken</c>: its place in the fair queue
/// (<see cref="Sessions.SessionQueueWait"/>), a heartbeat every <see cref="Interval"/> while a browser action runs (a
/// wait, a navigation), and each step of a task as the session reports it through an <see cref="IActionProgress"/>
/// observer — the session may run on another silo, and an observer reference reaches this silo from any of them.
/// One counter per call, so the progress value grows with every notification whichever part sends it.
/// </summary>
public sealed class CallProgress
{
    /// <summary>The longest a running call stays silent.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private static readonly ConditionalWeakTable<RequestContext<CallToolRequestParams>, CallProgress> Calls = [];

    private readonly McpServer _server;
    private readonly ProgressToken _token;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _sent;

    private CallProgress(McpServer server, ProgressToken token)
    {
        _server = server;
        _token = token;
    }

    /// <summary>The call's progress, or null when its client sent no <c>progressToken</c>.</summary>
    public static CallProgress? Of(RequestContext<CallToolRequestParams> context) =>
        context.Params?.ProgressToken is { } token ? Calls.GetValue(context, c => new CallProgress(c.Server, token)) : null;

    /// <summary>Sends one notification. Never fails the call: a client that went away, or a call that ended, only ends its progress.</summary>
    public async Task ReportAsync(string message, CancellationToken cancellationToken)
    {
        try
        {
            await _gate.WaitAsync(cancellationToken);
            try
            {
                await _server.NotifyProgressAsync(_token, new ProgressNotificationValue { Progress = ++_sent, Message = message }, cancellationToken: cancellationToken);
            }
            finally
            {
                _gate.Release();
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or IOException or InvalidOperationException or McpException)
        {
            // The call ended or its transport is gone: the call itself notices, or ends unheard.
        }
    }

    /// <summary>Watches a running browser action: a heartbeat every <see cref="Interval"/>, and a listener for its steps.</summary>
    public Watch Start(string tool, IGrainFactory grains, TimeProvider time, CancellationToken cancellationToken) =>
        new(this, tool, grains, time, cancellationToken);

    /// <summary>A running action's heartbeat and step listener, until disposed.</summary>
    public sealed class Watch : IAsyncDisposable, IActionProgress
    {
        private readonly CallProgress _progress;
        private readonly IGrainFactory _grains;
        private readonly CancellationTokenSource _stop;
        private readonly CancellationToken _stopped;
        private readonly SemaphoreSlim _order = new(1, 1);
        private readonly Dictionary<int, TaskStepDone> _early = [];
        private readonly Task _beat;
        private int _nextStep = 1;

        internal Watch(CallProgress progress, string tool, IGrainFactory grains, TimeProvider time, CancellationToken cancellationToken)
        {
            _progress = progress;
            _grains = grains;
            _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _stopped = _stop.Token;
            // Orleans holds an observer weakly: this object, referenced by the call, keeps it alive while the call runs.
            Listener = grains.CreateObjectReference<IActionProgress>(this);
            _beat = BeatAsync(tool, time, _stopped);
        }

        /// <summary>The reference the session reports steps to.</summary>
        public IActionProgress Listener { get; }

        public async Task StepDoneAsync(TaskStepDone step)
        {
            try
            {
                await _order.WaitAsync(_stopped);
            }
            catch (OperationCanceledException)
            {
                return; // A report that arrived after the call answered: the answer already sent its step.
            }

            try
            {
                if (step.Number >= _nextStep)
                {
                    _early[step.Number] = step;
                }

                while (_early.Remove(_nextStep, out var next))
                {
                    await ReportStepAsync(next);
                }
            }
            finally
            {
                _order.Release();
            }
        }

        /// <summary>
        /// Sends, in order, the notifications of the task's <paramref name="steps"/> the session's one-way reports have
        /// not delivered yet (still on their way, or lost with their silo), so every step is heard before the answer
        /// and none after it. Later reports of those steps are dropped.
        /// </summary>
        public async Task StepsFinishedAsync(IReadOnlyList<TaskStepResult> steps, int total)
        {
            await _order.WaitAsync(_stopped);
            try
            {
                while (_nextStep <= steps.Count)
                {
                    await ReportStepAsync(new TaskStepDone(_nextStep, total, steps[_nextStep - 1]));
                }

                _early.Clear();
            }
            finally
            {
                _order.Release();
            }
        }

        private Task ReportStepAsync(TaskStepDone step)
        {
            _nextStep = step.Number + 1;
            return _progress.ReportAsync(
                string.Create(CultureInfo.InvariantCulture, $"step {step.Number} of {step.Total} {(step.Result.Ok ? "done" : "failed")}: {step.Result.Action} ({step.Result.Ms} ms)"),
                _stopped);
        }

        private async Task BeatAsync(string tool, TimeProvider time, CancellationToken cancellationToken)
        {
            var started = time.GetTimestamp();
            using var timer = new PeriodicTimer(Interval, time);
            try
            {
                while (await timer.WaitForNextTickAsync(cancellationToken))
                {
                    await _progress.ReportAsync(string.Create(CultureInfo.InvariantCulture, $"{tool}: running for {time.GetElapsedTime(started).TotalSeconds:0} s"), cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _beat;
            _grains.DeleteObjectReference<IActionProgress>(Listener);
            _stop.Dispose();
        }
    }
}
