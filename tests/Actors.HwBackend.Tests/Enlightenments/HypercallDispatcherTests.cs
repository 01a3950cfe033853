using System.Buffers.Binary;
using Actors.HwBackend.Enlightenments;
using Actors.HwBackend.Memory;
using Xunit;

namespace Actors.HwBackend.Tests.Enlightenments;

public sealed class HypercallDispatcherTests : IDisposable
{
    private const ulong MiB = 1 << 20;
    private const ulong Input = 0x3000;
    private const ulong Fast = 1UL << 16;

    private readonly GuestRam _ram = new(4 * MiB);
    private readonly GuestPhysicalMap _memory;
    private readonly RecordingTarget _target = new();
    private readonly HypercallDispatcher _dispatcher;

    public HypercallDispatcherTests()
    {
        _memory = new GuestPhysicalMap(_ram);
        _memory.AddRam("low", 0, 2 * MiB, 0);
        _memory.AddMmio("hole", 2 * MiB, MiB);
        _dispatcher = new HypercallDispatcher(_memory, _target);
    }

    public void Dispose() => _ram.Dispose();

    [Fact]
    public void PostMessageHandsTheCheckedPayloadToItsConnection()
    {
        WriteMessage(Input, connection: 4, type: 1, payload: [1, 2, 3, 4, 5]);

        Assert.Equal(HvStatus.Success, Status(_dispatcher.Call(new HypercallInput(HypercallDispatcher.PostMessage), Input, 0)));
        (uint connection, uint type, byte[] payload) = Assert.Single(_target.Messages);
        Assert.Equal((4u, 1u), (connection, type));
        Assert.Equal([1, 2, 3, 4, 5], payload);
    }

    [Fact]
    public void SignalEventTakesItsParameterFromTheRegisterWhenFastOrFromMemory()
    {
        Assert.Equal(HvStatus.Success, Status(_dispatcher.Call(new HypercallInput(HypercallDispatcher.SignalEvent | Fast), 0x0000_0003_0000_0011, 0)));
        _memory.WriteValue(Input, 0x0000_0000_0000_0022UL);
        Assert.Equal(HvStatus.Success, Status(_dispatcher.Call(new HypercallInput(HypercallDispatcher.SignalEvent), Input, 0)));
        Assert.Equal([(0x11u, (ushort)3), (0x22u, (ushort)0)], _target.Events);
    }

    public static TheoryData<string, ulong, ulong, HvStatus> BadCalls => new()
    {
        { "unknown call code", 0x99, Input, HvStatus.InvalidHypercallCode },
        { "reserved input bits", HypercallDispatcher.PostMessage | (1UL << 27), Input, HvStatus.InvalidHypercallInput },
        { "nested", HypercallDispatcher.PostMessage | (1UL << 31), Input, HvStatus.InvalidHypercallInput },
        { "a rep count on a simple call", HypercallDispatcher.PostMessage | (3UL << 32), Input, HvStatus.InvalidHypercallInput },
        { "a variable header", HypercallDispatcher.PostMessage | (1UL << 17), Input, HvStatus.InvalidHypercallInput },
        { "a fast post", HypercallDispatcher.PostMessage | Fast, Input, HvStatus.InvalidHypercallInput },
        { "a misaligned block", HypercallDispatcher.PostMessage, Input + 4, HvStatus.InvalidAlignment },
        { "a block across a page", HypercallDispatcher.PostMessage, Input + 0xF80, HvStatus.InvalidAlignment },
        { "a block in MMIO", HypercallDispatcher.PostMessage, 2 * MiB, HvStatus.InvalidParameter },
        { "a block beyond RAM", HypercallDispatcher.PostMessage, 1UL << 40, HvStatus.InvalidParameter },
        { "a signal with reserved bits", HypercallDispatcher.SignalEvent | Fast, 1UL << 50, HvStatus.InvalidParameter },
        { "a signal to a 25-bit connection", HypercallDispatcher.SignalEvent | Fast, 1UL << 24, HvStatus.InvalidParameter },
    };

    [Theory]
    [MemberData(nameof(BadCalls))]
    public void ABadCallGetsItsStatusAndReachesNoConnection(string what, ulong input, ulong parameter, HvStatus expected)
    {
        WriteMessage(Input, connection: 4, type: 1, payload: [1]);
        Assert.True(expected == Status(_dispatcher.Call(new HypercallInput(input), parameter, 0)), what);
        Assert.Empty(_target.Messages);
        Assert.Empty(_target.Events);
    }

    [Theory]
    [InlineData(1u << 24, 1u, 8u)] // connection id wider than 24 bits
    [InlineData(4u, 0u, 8u)] // message type 0 is "no message"
    [InlineData(4u, 0x8000_0010u, 8u)] // a hypervisor message type
    [InlineData(4u, 1u, 241u)] // a payload larger than a message slot
    public void ABadMessageIsAnInvalidParameter(uint connection, uint type, uint size)
    {
        WriteMessage(Input, connection, type, payload: new byte[Math.Min(size, 240)]);
        _memory.WriteValue(Input + 12, size);
        Assert.Equal(HvStatus.InvalidParameter, Status(_dispatcher.Call(new HypercallInput(HypercallDispatcher.PostMessage), Input, 0)));
        Assert.Empty(_target.Messages);
    }

    [Fact]
    public void WithNothingConnectedEveryConnectionIsUnknown()
    {
        var unconnected = new HypercallDispatcher(_memory, target: null);
        WriteMessage(Input, connection: 4, type: 1, payload: [1]);
        Assert.Equal(HvStatus.InvalidConnectionId, Status(unconnected.Call(new HypercallInput(HypercallDispatcher.PostMessage), Input, 0)));
        Assert.Equal(HvStatus.InvalidConnectionId, Status(unconnected.Call(new HypercallInput(HypercallDispatcher.SignalEvent | Fast), 2, 0)));
    }

    [Fact]
    public void RandomAndMutatedCallsNeverThrowAndAlwaysAnswerWithATlfsStatus()
    {
        // Seeded, so a failure is reproducible: 100,000 calls, half of them mutations of valid ones.
        var random = new Random(20261206);
        HvStatus[] statuses = Enum.GetValues<HvStatus>();
        ulong[] valid = [HypercallDispatcher.PostMessage, HypercallDispatcher.SignalEvent, HypercallDispatcher.SignalEvent | Fast];
        Span<byte> block = stackalloc byte[HypercallDispatcher.PostMessageInputBytes];
        for (int i = 0; i < 100_000; i++)
        {
            ulong input, parameter;
            if (i % 2 == 0)
            {
                input = (ulong)random.NextInt64();
                parameter = (ulong)random.NextInt64();
            }
            else
            {
                input = valid[random.Next(valid.Length)] ^ (random.Next(4) == 0 ? 1UL << random.Next(64) : 0);
                parameter = random.Next(3) switch
                {
                    0 => Input,
                    1 => (ulong)random.Next(0, (int)(4 * MiB)),
                    _ => (ulong)random.NextInt64(),
                };
                random.NextBytes(block);
                BinaryPrimitives.WriteUInt32LittleEndian(block[12..], (uint)random.Next(0, 300));
                _memory.Write(Input, block);
            }

            ulong result = _dispatcher.Call(new HypercallInput(input), parameter, 0);
            Assert.Contains(Status(result), statuses);
            Assert.Equal(0UL, result >> 16);
        }
    }

    private static HvStatus Status(ulong result) => (HvStatus)(ushort)result;

    private void WriteMessage(ulong gpa, uint connection, uint type, byte[] payload)
    {
        var block = new byte[HypercallDispatcher.PostMessageInputBytes];
        BinaryPrimitives.WriteUInt32LittleEndian(block, connection);
        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(8), type);
        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(12), (uint)payload.Length);
        payload.CopyTo(block, 16);
        _memory.Write(gpa, block);
    }

    private sealed class RecordingTarget : IHypercallTarget
    {
        public List<(uint Connection, uint Type, byte[] Payload)> Messages { get; } = [];

        public List<(uint Connection, ushort Flag)> Events { get; } = [];

        public HvStatus PostMessage(uint connectionId, uint messageType, ReadOnlySpan<byte> payload)
        {
            Messages.Add((connectionId, messageType, payload.ToArray()));
            return HvStatus.Success;
        }

        public HvStatus SignalEvent(uint connectionId, ushort flagNumber)
        {
            Events.Add((connectionId, flagNumber));
            return HvStatus.Success;
        }
    }
}
