using Actors.HwBackend.Worker;
using Xunit;

namespace Actors.HwBackend.Tests.Worker;

public sealed class ConsoleOutputLogTests
{
    [Fact]
    public void SequenceNumbersAreOffsetsInTheWholeOutput()
    {
        var sink = new RecordingConsole();
        var log = new ConsoleOutputLog(sink, capacity: 8);

        log.Transmit("abc"u8);
        log.Transmit("de\n"u8);

        Assert.Equal([(0L, "abc"), (3L, "de\n")], sink.Batches.Select(b => (b.Sequence, System.Text.Encoding.ASCII.GetString(b.Data))));
        Assert.Equal(6, log.TotalBytes);
    }

    [Fact]
    public void RingKeepsTheNewestBytesAcrossWraps()
    {
        var log = new ConsoleOutputLog(null, capacity: 8);
        log.Transmit("0123456"u8);
        log.Transmit("789ab"u8);

        var (sequence, bytes) = log.ReadRecent();

        Assert.Equal(4, sequence);
        Assert.Equal("456789ab"u8.ToArray(), bytes);
    }

    [Fact]
    public void BatchLargerThanTheRingKeepsItsTail()
    {
        var log = new ConsoleOutputLog(null, capacity: 4);
        log.Transmit("x"u8);
        log.Transmit("abcdefghij"u8);

        var (sequence, bytes) = log.ReadRecent();

        Assert.Equal(7, sequence);
        Assert.Equal("ghij"u8.ToArray(), bytes);
    }

    [Fact]
    public void EmptyLogReadsEmpty()
    {
        var (sequence, bytes) = new ConsoleOutputLog(null).ReadRecent();

        Assert.Equal(0, sequence);
        Assert.Empty(bytes);
    }
}
