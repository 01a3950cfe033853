using Actors.Hvctl;
using Actors.Hvctl.Output;

namespace Actors.Client.Tests;

/// <summary>How <c>--watch</c> separates its snapshots in each format, on a terminal and off one; and that cancellation (Ctrl-C) ends it.</summary>
public sealed class WatchOptionsTests
{
    [Theory]
    [InlineData("Table", false, "T1\n\nT2\n\nT3\n")]
    [InlineData("Yaml", false, "Y1\n---\nY2\n---\nY3\n")]
    [InlineData("Json", false, "J1\nJ2\nJ3\n")]
    [InlineData("Json", true, "J1\nJ2\nJ3\n")]
    [InlineData("Table", true, WatchOptions.ClearScreen + "T1\n" + WatchOptions.ClearScreen + "T2\n" + WatchOptions.ClearScreen + "T3\n")]
    public async Task Snapshots_are_separated_as_the_format_and_the_output_want_until_cancelled(string formatName, bool terminal, string expected)
    {
        OutputFormat format = Enum.Parse<OutputFormat>(formatName);
        var output = new StringWriter();
        var io = new HvctlIo(new MemoryStream(), new MemoryStream(), output, new StringWriter()) { OutIsTerminal = terminal };
        using var interrupted = new CancellationTokenSource();
        int n = 0;
        var oneLine = new List<bool>();

        Task<int> watch = WatchOptions.RunAsync(io, format, TimeSpan.FromMilliseconds(10), asked =>
        {
            oneLine.Add(asked);
            if (++n == 3)
                interrupted.Cancel();
            return Task.FromResult($"{format.ToString()[0]}{n}\n");
        }, interrupted.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watch);
        Assert.Equal(expected, output.ToString());
        // JSON is asked for on one line: one document per line is what makes the stream readable.
        Assert.All(oneLine, asked => Assert.Equal(format == OutputFormat.Json, asked));
    }

    [Fact]
    public async Task Without_watch_it_prints_once_and_succeeds()
    {
        var output = new StringWriter();
        var io = new HvctlIo(new MemoryStream(), new MemoryStream(), output, new StringWriter()) { OutIsTerminal = true };

        int code = await WatchOptions.RunAsync(io, OutputFormat.Json, every: null, asked => Task.FromResult($"[{asked}]\n"), CancellationToken.None);

        Assert.Equal((0, "[False]\n"), (code, output.ToString()));
    }
}
