using System.Buffers.Binary;
using Actors.HwBackend.VmBus.IntegrationServices;
using Xunit;

namespace Actors.HwBackend.Tests.VmBus;

public sealed class ShutdownServiceTests : IDisposable
{
    private readonly IcTestChannel _ic = new();
    private readonly ShutdownService _shutdown = new();

    public void Dispose() => _ic.Dispose();

    private static uint Flags(byte[] request) => BinaryPrimitives.ReadUInt32LittleEndian(request.AsSpan(IcMessage.BodyOffset + 8));

    [Fact]
    public void NobodyIsAskedBeforeTheGuestAgreedOnVersions()
    {
        Assert.Null(_shutdown.Request(ShutdownKind.PowerOff));
        _shutdown.Opened(_ic.Channel);
        Assert.Null(_shutdown.Request(ShutdownKind.PowerOff));
        Assert.Equal("negotiating", _shutdown.Describe());
    }

    [Theory]
    [InlineData(ShutdownKind.PowerOff, 1u)] // power off, forced (Linux acts the same either way)
    [InlineData(ShutdownKind.Restart, 3u)]
    public async Task ARequestCarriesItsKindAndTheGuestsAnswerCompletesIt(ShutdownKind kind, uint flags)
    {
        _ic.OpenAndNegotiate(_shutdown);
        Task<ShutdownAnswer> answer = _shutdown.Request(kind)!;
        byte[] request = _ic.GuestReceives();
        Assert.Equal(IcMessage.Shutdown, IcMessage.Type(request));
        // Linux refuses a request shorter than its whole message, display text included.
        Assert.Equal(IcMessage.BodyOffset + 12 + 2048, request.Length);
        Assert.Equal(flags, Flags(request));
        Assert.Null(_shutdown.Request(kind)); // one at a time
        Assert.False(answer.IsCompleted);

        _ic.GuestAnswers(_shutdown, request);
        Assert.Equal(ShutdownAnswer.Accepted, await answer);
        Assert.Equal("ready", _shutdown.Describe());
    }

    [Fact]
    public async Task AGuestThatCannotComplyRefusesAndOneThatNeverAnswersIsAbandoned()
    {
        _ic.OpenAndNegotiate(_shutdown);
        Task<ShutdownAnswer> refused = _shutdown.Request(ShutdownKind.Restart)!;
        _ic.GuestAnswers(_shutdown, _ic.GuestReceives(), m => BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(20), IcMessage.Failure));
        Assert.Equal(ShutdownAnswer.Refused, await refused);

        Task<ShutdownAnswer> ignored = _shutdown.Request(ShutdownKind.PowerOff)!;
        _ = _ic.GuestReceives();
        _shutdown.Abandon();
        Assert.True(ignored.IsCanceled);
        Assert.NotNull(_shutdown.Request(ShutdownKind.PowerOff));
    }

    [Fact]
    public async Task ClosingTheChannelAnswersAWaitingRequestAndAnUnrelatedAnswerDoesNot()
    {
        _ic.OpenAndNegotiate(_shutdown);
        Task<ShutdownAnswer> answer = _shutdown.Request(ShutdownKind.PowerOff)!;
        byte[] request = _ic.GuestReceives();
        _ic.GuestAnswers(_shutdown, request, m => BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(12), IcMessage.Heartbeat));
        _ic.GuestAnswers(_shutdown, request[..27]); // shorter than a header
        Assert.False(answer.IsCompleted);
        _shutdown.Closed();
        Assert.Equal(ShutdownAnswer.Closed, await answer);
        Assert.Null(_shutdown.Request(ShutdownKind.PowerOff));
    }
}
