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

    /// <summary>How long an answer waits for the notifications of steps the session reported just before it.</summary>
    private static readonly TimeSpan StepsLimit = TimeSpan.FromSeconds(1);

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
        private readonly TimeProvider _time;
        private readonly SemaphoreSlim _stepped = new(0);
        private readonly Task _beat;

        internal Watch(CallProgress progress, string tool, IGrainFactory grains, TimeProvider time, CancellationToken cancellationToken)
        {
            _progress = progress;
            _grains = grains;
            _time = time;
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
            await _progress.ReportAsync(
                string.Create(CultureInfo.InvariantCulture, $"step {step.Number} of {step.Total} {(step.Result.Ok ? "done" : "failed")}: {step.Result.Action} ({step.Result.Ms} ms)"),
                _stopped);
            try
            {
                _stepped.Release();
            }
            catch (ObjectDisposedException)
            {
                // A report that arrived after the call answered.
            }
        }

        /// <summary>
        /// Waits (a second at most) until the notifications of a task's <paramref name="steps"/> are out: the session
        /// reports them one-way, so the last may still be on its way when the answer arrives, and none may follow it.
        /// </summary>
        public async Task StepsReportedAsync(int steps)
        {
            using var limit = new CancellationTokenSource(StepsLimit, _time);
            try
            {
                for (var i = 0; i < steps; i++)
                {
                    await _stepped.WaitAsync(limit.Token);
                }
            }
            catch (OperationCanceledException) when (limit.IsCancellationRequested)
            {
                // A step report lost on its way (its silo left): the answer does not wait for it.
            }
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
            _stepped.Dispose();
        }
    }
}
