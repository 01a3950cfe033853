using Actors.HwBackend.Devices.Legacy;
using Xunit;

namespace Actors.HwBackend.Tests.Devices;

public sealed class Uart16550Tests
{
    private const ushort Base = Uart16550.Com1Port;
    private const ushort Data = Base;
    private const ushort Ier = Base + 1;
    private const ushort Iir = Base + 2;
    private const ushort Fcr = Base + 2;
    private const ushort Lcr = Base + 3;
    private const ushort Mcr = Base + 4;
    private const ushort Lsr = Base + 5;
    private const ushort Msr = Base + 6;
    private const ushort Scratch = Base + 7;

    private readonly RecordingSerialSink _sink = new();

    [Fact]
    public void AfterResetTransmitterIsEmptyAndNothingIsReceived()
    {
        var uart = new Uart16550(_sink);

        Assert.Equal(0x60U, uart.Read(Lsr, 1)); // THRE | TEMT
        Assert.Equal(0x01U, uart.Read(Iir, 1)); // no interrupt
        Assert.Equal(0xB0U, uart.Read(Msr, 1)); // DCD | DSR | CTS
        Assert.Equal(0U, uart.Read(Ier, 1));
    }

    [Fact]
    public void ReceivedBytesRaiseDataReadyAndComeOutInOrder()
    {
        var uart = new Uart16550(_sink);

        Assert.Equal(3, uart.EnqueueReceive("abc"u8));

        Assert.Equal(0x61U, uart.Read(Lsr, 1));
        Assert.Equal((uint)'a', uart.Read(Data, 1));
        Assert.Equal((uint)'b', uart.Read(Data, 1));
        Assert.Equal((uint)'c', uart.Read(Data, 1));
        Assert.Equal(0x60U, uart.Read(Lsr, 1));
        Assert.Equal(0, uart.PendingReceiveBytes);
    }

    [Fact]
    public void DivisorLatchSharesPortsWithDataAndInterruptEnable()
    {
        var uart = new Uart16550(_sink);
        uart.Write(Ier, 1, 0x05);

        uart.Write(Lcr, 1, 0x83); // DLAB, 8N1
        uart.Write(Data, 1, 0x01); // DLL: 115200 baud, what KUT programs
        uart.Write(Ier, 1, 0x00); // DLM

        Assert.Equal(0x01U, uart.Read(Data, 1));
        Assert.Equal(0x00U, uart.Read(Ier, 1));
        Assert.Equal(1, uart.Divisor);
        Assert.Empty(_sink.Bytes);

        uart.Write(Lcr, 1, 0x03);
        Assert.Equal(0x03U, uart.Read(Lcr, 1));
        Assert.Equal(0x05U, uart.Read(Ier, 1)); // IER was not touched by the DLM write
        uart.Write(Data, 1, 'x');
        uart.Flush();
        Assert.Equal("x"u8.ToArray(), _sink.Bytes);
    }

    [Fact]
    public void InterruptEnableKeepsTheLowNibbleLikeLinuxProbesFor()
    {
        var uart = new Uart16550(_sink);

        uart.Write(Ier, 1, 0xFF);

        Assert.Equal(0x0FU, uart.Read(Ier, 1));
    }

    [Fact]
    public void FifoEnableShowsInIirAsA16550A()
    {
        var uart = new Uart16550(_sink);

        uart.Write(Fcr, 1, 0xC7);

        Assert.Equal(0xC1U, uart.Read(Iir, 1));
        uart.Write(Fcr, 1, 0x00);
        Assert.Equal(0x01U, uart.Read(Iir, 1));
    }

    [Fact]
    public void TransmitInterruptIsRaisedOnEnableAndAcknowledgedByReadingIir()
    {
        var uart = new Uart16550(_sink);

        uart.Write(Ier, 1, 0x02);
        Assert.Equal(0x02U, uart.Read(Iir, 1));
        Assert.Equal(0x01U, uart.Read(Iir, 1)); // the read acknowledged it

        uart.Write(Data, 1, 'a');
        Assert.Equal(0x02U, uart.Read(Iir, 1)); // THR emptied again at once
    }

    [Fact]
    public void InterruptPrioritiesFollowTheDataSheet()
    {
        var uart = new Uart16550(_sink, receiveCapacity: 1);
        uart.Write(Ier, 1, 0x0F);
        uart.Write(Mcr, 1, 0x01); // no loopback: modem lines do not move

        uart.EnqueueReceive("ab"u8); // the second byte overruns
        Assert.Equal(0x06U, uart.Read(Iir, 1)); // line status first
        Assert.Equal(0x63U, uart.Read(Lsr, 1)); // DR | OE, and reading clears OE
        Assert.Equal(0x04U, uart.Read(Iir, 1)); // then received data
        uart.Read(Data, 1);
        Assert.Equal(0x02U, uart.Read(Iir, 1)); // then THR empty
        Assert.Equal(0x01U, uart.Read(Iir, 1));
    }

    [Fact]
    public void InterruptLineNeedsOut2()
    {
        var uart = new Uart16550(_sink);
        uart.Write(Ier, 1, 0x01);
        uart.EnqueueReceive("z"u8);

        Assert.False(uart.InterruptAsserted);
        uart.Write(Mcr, 1, 0x08);
        Assert.True(uart.InterruptAsserted);
        uart.Read(Data, 1);
        Assert.False(uart.InterruptAsserted);
    }

    [Fact]
    public void LoopbackMirrorsModemControlIntoModemStatusAsLinuxChecks()
    {
        var uart = new Uart16550(_sink);

        uart.Write(Mcr, 1, 0x1A); // LOOP | OUT2 | RTS

        Assert.Equal(0x90U, uart.Read(Msr, 1) & 0xF0);
        uart.Write(Mcr, 1, 0x1F);
        Assert.Equal(0xF0U, uart.Read(Msr, 1) & 0xF0);
    }

    [Fact]
    public void ModemStatusDeltasAreSetOnChangeAndClearedByReading()
    {
        var uart = new Uart16550(_sink);
        uart.Write(Mcr, 1, 0x10 | 0x04); // loopback with OUT1 (RI) on
        uart.Read(Msr, 1);

        uart.Write(Mcr, 1, 0x10 | 0x02); // RI falls, CTS rises

        uint msr = uart.Read(Msr, 1);
        Assert.Equal(0x01U | 0x04U, msr & 0x0F); // DCTS | TERI
        Assert.Equal(0U, uart.Read(Msr, 1) & 0x0F);
    }

    [Fact]
    public void LoopbackSendsTransmittedBytesToTheReceiverNotTheSink()
    {
        var uart = new Uart16550(_sink);
        uart.Write(Mcr, 1, 0x10);

        uart.Write(Data, 1, 0x55);
        uart.Write(Data, 1, '\n');

        Assert.Equal(0x61U, uart.Read(Lsr, 1));
        Assert.Equal(0x55U, uart.Read(Data, 1));
        Assert.Equal((uint)'\n', uart.Read(Data, 1));
        uart.Flush();
        Assert.Empty(_sink.Bytes);
        Assert.Equal(0, uart.TransmittedBytes);
    }

    [Fact]
    public void ScratchRegisterHoldsAnyByte()
    {
        var uart = new Uart16550(_sink);

        uart.Write(Scratch, 1, 0xA5);

        Assert.Equal(0xA5U, uart.Read(Scratch, 1));
    }

    [Fact]
    public void OutputIsBatchedUntilNewline()
    {
        var uart = new Uart16550(_sink);

        foreach (byte b in "hello\nworld"u8)
        {
            uart.Read(Lsr, 1); // a polling guest checks THRE before each byte
            uart.Write(Data, 1, b);
        }

        Assert.Single(_sink.Batches);
        Assert.Equal("hello\n"u8.ToArray(), _sink.Batches[0]);
        uart.Flush();
        Assert.Equal("hello\nworld"u8.ToArray(), _sink.Bytes);
        Assert.Equal(11, uart.TransmittedBytes);
    }

    [Fact]
    public void FullBatchIsHandedOver()
    {
        var uart = new Uart16550(_sink, transmitBatch: 4);

        foreach (byte b in "abcdefghij"u8)
            uart.Write(Data, 1, b);

        Assert.Equal(["abcd"u8.ToArray(), "efgh"u8.ToArray()], _sink.Batches);
    }

    [Fact]
    public void PromptIsFlushedWhenTheGuestWaitsForInput()
    {
        var uart = new Uart16550(_sink);
        foreach (byte b in "> "u8)
            uart.Write(Data, 1, b);

        uart.Read(Lsr, 1);
        Assert.Empty(_sink.Batches);
        uart.Read(Lsr, 1); // polling LSR twice without sending: the guest is waiting for DR

        Assert.Equal("> "u8.ToArray(), _sink.Bytes);
    }

    [Fact]
    public void ReadingReceiveBufferFlushesPendingOutput()
    {
        var uart = new Uart16550(_sink);
        uart.Write(Data, 1, '?');

        uart.Read(Data, 1);

        Assert.Equal("?"u8.ToArray(), _sink.Bytes);
    }

    [Fact]
    public void FullReceiveQueueOverrunsAndReportsIt()
    {
        var uart = new Uart16550(_sink, receiveCapacity: 4);

        Assert.Equal(4, uart.EnqueueReceive("abcdef"u8));

        Assert.Equal(2, uart.ReceiveOverruns);
        Assert.Equal(0x63U, uart.Read(Lsr, 1)); // DR | OE
        Assert.Equal(0x61U, uart.Read(Lsr, 1)); // OE clears on read
        Assert.Equal((uint)'a', uart.Read(Data, 1));
    }

    [Fact]
    public void FifoResetDiscardsReceivedBytes()
    {
        var uart = new Uart16550(_sink);
        uart.EnqueueReceive("abc"u8);

        uart.Write(Fcr, 1, 0x01 | 0x02);

        Assert.Equal(0U, uart.Read(Lsr, 1) & 1);
    }

    [Fact]
    public void WideAccessesActAsConsecutiveByteAccesses()
    {
        var uart = new Uart16550(_sink);
        uart.Write(Lcr, 2, 0x0B03); // LCR = 3, MCR = 0x0B

        Assert.Equal(0x03U, uart.Read(Lcr, 1));
        Assert.Equal(0x0BU, uart.Read(Mcr, 1));
        Assert.Equal(0xB060U, uart.Read(Lsr, 2)); // LSR, MSR
        Assert.Equal(0xFFFF_FF00U | 0x00, uart.Read(Scratch, 4)); // bytes past the UART float high
    }

    [Fact]
    public void ReceiveQueueTakesInputFromAnotherThreadInOrder()
    {
        var uart = new Uart16550(_sink, receiveCapacity: 1 << 20);
        const int total = 20000;
        var producer = new Thread(() =>
        {
            var chunk = new byte[7];
            for (int sent = 0; sent < total; sent += chunk.Length)
            {
                int n = Math.Min(chunk.Length, total - sent);
                for (int i = 0; i < n; i++)
                    chunk[i] = (byte)(sent + i);
                uart.EnqueueReceive(chunk.AsSpan(0, n));
            }
        });
        producer.Start();

        var received = new List<byte>(total);
        while (received.Count < total)
        {
            if ((uart.Read(Lsr, 1) & 1) != 0)
                received.Add((byte)uart.Read(Data, 1));
            else if (!producer.IsAlive && uart.PendingReceiveBytes == 0)
                break;
        }
        producer.Join();

        Assert.Equal(total, received.Count);
        for (int i = 0; i < total; i++)
            Assert.Equal((byte)i, received[i]);
        Assert.Equal(0, uart.ReceiveOverruns);
    }

    [Fact]
    public void SavedStateRestoresIntoAFreshUart()
    {
        var uart = new Uart16550(_sink);
        uart.Write(Lcr, 1, 0x80);
        uart.Write(Data, 1, 0x03);
        uart.Write(Lcr, 1, 0x1B);
        uart.Write(Ier, 1, 0x03);
        uart.Write(Fcr, 1, 0xC1);
        uart.Write(Mcr, 1, 0x0B);
        uart.Write(Scratch, 1, 0x42);
        uart.EnqueueReceive("xy"u8);

        var copy = new Uart16550();
        copy.RestoreState(uart.SaveState());

        Assert.Equal(uart.SaveState() with { ReceiveQueue = [] }, copy.SaveState() with { ReceiveQueue = [] });
        Assert.Equal(3, copy.Divisor);
        Assert.Equal(0x42U, copy.Read(Scratch, 1));
        Assert.Equal((uint)'x', copy.Read(Data, 1));
        Assert.Equal((uint)'y', copy.Read(Data, 1));
    }

    [Fact]
    public void RegisterAccessesDoNotAllocate()
    {
        var uart = new Uart16550(new DiscardingSink());
        uart.EnqueueReceive("warm"u8);
        for (int i = 0; i < 100; i++)
            Exercise(uart);

        // The least of three rounds: an allocating access allocates in every round, while the runtime's own
        // work on this thread (seen once: a few hundred bytes while the JIT promoted a method) lands in one.
        long allocated = long.MaxValue;
        for (int round = 0; round < 3; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10000; i++)
                Exercise(uart);
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, allocated);

        static void Exercise(Uart16550 uart)
        {
            uart.Read(Lsr, 1);
            uart.Write(Data, 1, 'a');
            uart.Read(Iir, 1);
            uart.Read(Msr, 1);
            uart.Read(Data, 1);
        }
    }

    private sealed class DiscardingSink : ISerialTransmitSink
    {
        public void Transmit(ReadOnlySpan<byte> data)
        {
        }
    }
}
