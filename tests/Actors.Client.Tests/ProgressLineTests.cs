using Actors.Grains;
using Actors.Hvctl;

namespace Actors.Client.Tests;

/// <summary>hvctl's progress lines: a bar redrawn in place on a terminal, and plain, occasional lines into a pipe or a log.</summary>
public sealed class ProgressLineTests
{
    [Fact]
    public void On_a_terminal_the_bar_is_redrawn_in_place_cut_to_the_width_and_ended_by_a_newline()
    {
        var output = new StringWriter();
        var clock = new ManualClock();
        var line = new ProgressLine(output, terminal: true, columns: 40, clock);

        line.Report("a.img: 1.0 of 4.0 MiB sent", 0.25);
        clock.Advance(TimeSpan.FromSeconds(1));
        line.Report("a.img: 2.0 of 4.0 MiB sent", 0.5);
        line.End();

        Assert.Equal(
            "\r[#####...............]  25% a.img: 1.0 \e[K"
            + "\r[##########..........]  50% a.img: 2.0 \e[K\n",
            output.ToString());
    }

    [Fact]
    public void On_a_terminal_reports_within_a_tenth_of_a_second_are_drawn_once_and_the_last_at_the_end()
    {
        var output = new StringWriter();
        var clock = new ManualClock();
        var line = new ProgressLine(output, terminal: true, columns: 0, clock);

        line.Report("one", 0.1);
        line.Report("two", 0.2);
        line.Report("three", 0.3);
        line.End("done");

        Assert.Equal("\r[##..................]  10% one\e[K\rdone\e[K\n", output.ToString());
    }

    [Fact]
    public void Off_a_terminal_a_line_goes_out_at_each_milestone_and_otherwise_every_two_seconds()
    {
        var output = new StringWriter();
        var clock = new ManualClock();
        var line = new ProgressLine(output, terminal: false, columns: 0, clock);

        line.Report("pass 1, 100 left", 0.0, milestone: true);
        clock.Advance(TimeSpan.FromSeconds(1));
        line.Report("pass 1, 50 left", 0.5);
        clock.Advance(TimeSpan.FromSeconds(1.5));
        line.Report("pass 1, 10 left", 0.9);
        clock.Advance(TimeSpan.FromSeconds(0.1));
        line.Report("pass 2, 5 left", 0.95, milestone: true);
        line.Report("pass 2, 1 left", 0.99);
        line.End();

        Assert.Equal("pass 1, 100 left\npass 1, 10 left\npass 2, 5 left\npass 2, 1 left\n", output.ToString());
    }

    [Fact]
    public void Off_a_terminal_a_short_upload_prints_only_its_end()
    {
        var output = new StringWriter();
        var clock = new ManualClock();
        var io = new HvctlIo(new MemoryStream(), new MemoryStream(), new StringWriter(), output);
        var upload = new UploadProgressDisplay(io, clock);

        upload.Report(new ImageUploadProgress("k.img", 0, 3 << 20));
        clock.Advance(TimeSpan.FromSeconds(0.5));
        upload.Report(new ImageUploadProgress("k.img", 1 << 20, 3 << 20));
        clock.Advance(TimeSpan.FromSeconds(0.5));
        upload.Report(new ImageUploadProgress("k.img", 3 << 20, 3 << 20));
        upload.Report(new ImageUploadProgress("initrd", 0, 4096, AlreadyStored: true));

        Assert.Equal("k.img: 3.0 MiB uploaded in 1.0 s, 3.0 MiB/s\ninitrd: 4.0 KiB already in the image store, nothing to send\n", output.ToString());
    }

    [Fact]
    public void On_a_terminal_an_upload_draws_a_bar_of_bytes_sent()
    {
        var output = new StringWriter();
        var clock = new ManualClock();
        var io = new HvctlIo(new MemoryStream(), new MemoryStream(), new StringWriter(), output) { ErrorIsTerminal = true, TerminalColumns = 120 };
        var upload = new UploadProgressDisplay(io, clock);

        upload.Report(new ImageUploadProgress("k.img", 0, 4 << 20));
        clock.Advance(TimeSpan.FromSeconds(1));
        upload.Report(new ImageUploadProgress("k.img", 1 << 20, 4 << 20));
        clock.Advance(TimeSpan.FromSeconds(1));
        upload.Report(new ImageUploadProgress("k.img", 4 << 20, 4 << 20));

        Assert.Equal(
            "\r[....................]   0% k.img: 0.0 KiB of 4.0 MiB sent\e[K"
            + "\r[#####...............]  25% k.img: 1.0 MiB of 4.0 MiB sent, 1.0 MiB/s\e[K"
            + "\rk.img: 4.0 MiB uploaded in 2.0 s, 2.0 MiB/s\e[K\n",
            output.ToString());
    }

    [Fact]
    public void A_migrations_bar_is_the_share_of_ram_clean_on_the_target()
    {
        var start = DateTimeOffset.UtcNow;
        var copying = new MigrationStatus("m", "vm", "a", "b", MigrationState.Copying, 1, 4096, 100, 1 << 20, 1 << 20, 64 << 20, start, null, null, null);

        Assert.Equal(0.75, Actors.Hvctl.MigrateCommands.Copied(copying));
        Assert.Equal(1, Actors.Hvctl.MigrateCommands.Copied(copying with { State = MigrationState.Completed, PagesRemaining = 7 }));
        Assert.Equal("pass 1, 4096 pages left, 1.0 MiB/s, 1 MiB sent, dirtying 100 pages/s", Actors.Hvctl.MigrateCommands.BarText(copying));
    }
}
