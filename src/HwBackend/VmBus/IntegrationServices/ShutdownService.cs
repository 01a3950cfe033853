using System.Buffers.Binary;

namespace Actors.HwBackend.VmBus.IntegrationServices;

/// <summary>
/// The host's end of the shutdown integration service (version 3.0): asks the guest to power off
/// or restart in an orderly way (Linux's hv_utils runs <c>orderly_poweroff</c> or
/// <c>orderly_reboot</c>). The guest answers each request with a status, OK or HV_E_FAIL, before
/// it starts; whoever asked is told through the task <see cref="Request"/> returned. One request is
/// outstanding at a time; for a guest that never answers, the caller's timeout ends it
/// (<see cref="Abandon"/>).
/// </summary>
public sealed class ShutdownService : IntegrationService
{
    private const int BodyBytes = 12 + 2048; // reason code, timeout, flags, then a UTF-16 message the guest may show
    private const uint PowerOffFlags = 0, RestartFlags = 2;
    private const uint ForceFlag = 1; // Linux always acts as if forced; sent so that other guests do too

    private TaskCompletionSource<ShutdownAnswer>? _pending;

    public ShutdownService()
        : base(3 << 16)
    {
    }

    /// <summary>
    /// Sends the request and returns the guest's answer when it comes; null at once when there is
    /// nobody to ask (the channel is not open or not negotiated) or a request is already waiting.
    /// </summary>
    public Task<ShutdownAnswer>? Request(ShutdownKind kind)
    {
        lock (Lock)
        {
            if (!Negotiated || _pending is not null)
                return null;
            Span<byte> body = stackalloc byte[BodyBytes];
            body.Clear();
            BinaryPrimitives.WriteUInt32LittleEndian(body[8..], (kind == ShutdownKind.Restart ? RestartFlags : PowerOffFlags) | ForceFlag);
            if (!SendLocked(IcMessage.Shutdown, body))
                return null;
            _pending = new TaskCompletionSource<ShutdownAnswer>(TaskCreationOptions.RunContinuationsAsynchronously);
            return _pending.Task;
        }
    }

    /// <summary>The caller gave up waiting for the answer: a later request may be sent.</summary>
    public void Abandon()
    {
        lock (Lock)
        {
            _pending?.TrySetCanceled();
            _pending = null;
        }
    }

    /// <summary>What <c>vm show</c> says.</summary>
    public string Describe()
    {
        lock (Lock)
        {
            return NotNegotiatedLocked() ?? (_pending is null ? "ready" : "request sent, no answer yet");
        }
    }

    protected override void OnAnswerLocked(ushort type, uint status, ReadOnlySpan<byte> body)
    {
        if (type != IcMessage.Shutdown || _pending is not { } pending)
            return;
        _pending = null;
        pending.SetResult(status == 0 ? ShutdownAnswer.Accepted : ShutdownAnswer.Refused);
    }

    protected override void OnClosedLocked()
    {
        // The guest unloaded its driver (or left the bus) before answering: it will not.
        _pending?.SetResult(ShutdownAnswer.Closed);
        _pending = null;
    }
}
