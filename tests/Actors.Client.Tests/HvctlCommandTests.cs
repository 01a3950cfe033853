using System.Net;
using System.Net.Sockets;
using Actors.Hvctl;

namespace Actors.Client.Tests;

/// <summary>hvctl's argument checks and error lines, run in-process and without any cluster.</summary>
public sealed class HvctlCommandTests
{
    [Fact]
    public async Task Create_with_a_missing_image_is_a_usage_error_on_one_line()
    {
        Result r = await RunAsync("vm", "create", "x", "--image", "missing.elf");

        Assert.Equal(2, r.ExitCode);
        Assert.Equal("hvctl: image file 'missing.elf' not found: give the path of a guest image, for example guests/build/hello.elf", r.SingleErrorLine());
        Assert.Empty(r.Out);
    }

    [Fact]
    public async Task Create_with_a_bad_size_names_the_size_and_the_fix()
    {
        using var image = new TempImage();
        Result r = await RunAsync("vm", "create", "x", "--image", image.Path, "--memory", "12Q");

        Assert.Equal(2, r.ExitCode);
        Assert.Equal("hvctl: bad size '12Q': use a number with K, M or G (for example 64M)", r.SingleErrorLine());
    }

    [Theory]
    [InlineData("--vcpus", "0", "vCPU count must be between 1 and 64, got 0")]
    [InlineData("--memory", "100K", "memory must be between 1M and 64G, got 102400 bytes")]
    [InlineData("--memory", "1025K", "memory must be a multiple of 4K")]
    public async Task Create_checks_the_vm_shape_before_connecting(string option, string value, string message)
    {
        using var image = new TempImage();
        Result r = await RunAsync("vm", "create", "x", "--image", image.Path, option, value, "--gateway", "127.0.0.1:1");

        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"hvctl: {message}", r.SingleErrorLine());
    }

    [Fact]
    public async Task Create_without_image_is_a_usage_error()
    {
        Result r = await RunAsync("vm", "create", "x");

        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("hvctl: ", r.SingleErrorLine());
        Assert.Contains("--image", r.Error);
    }

    [Fact]
    public async Task An_unknown_command_is_a_usage_error_naming_it()
    {
        Result r = await RunAsync("vm", "frobnicate", "x");

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("frobnicate", r.SingleErrorLine());
    }

    [Theory]
    [InlineData("vm", "create", "x", "--image")]
    [InlineData("run", "--kernel")]
    public async Task A_backend_placement_is_checked_before_connecting(params string[] command)
    {
        using var image = new TempImage();

        Result unknown = await RunAsync([.. command, image.Path, "--backend", "prefer:quantum", "--gateway", "127.0.0.1:1"]);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("prefer:quantum", unknown.SingleErrorLine());
    }

    [Fact]
    public async Task Run_refuses_an_unknown_backend()
    {
        using var image = new TempImage();
        Result r = await RunAsync("run", image.Path, "--backend", "quantum");

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("quantum", r.SingleErrorLine());
    }

    [Fact]
    public async Task A_VSP_host_without_hyperv_is_a_usage_error()
    {
        using var image = new TempImage();
        Result r = await RunAsync("vm", "create", "web", "--image", image.Path, "--vsp-host", "host-2", "--gateway", "127.0.0.1:1");

        Assert.Equal(2, r.ExitCode);
        Assert.Equal("hvctl: --vsp-host serves VMBus devices, which only a VM created with --hyperv has", r.SingleErrorLine());
    }

    [Fact]
    public async Task A_disk_without_hyperv_or_a_disk_of_a_bad_size_is_a_usage_error()
    {
        using var image = new TempImage();
        Result r = await RunAsync("vm", "create", "web", "--image", image.Path, "--disk", "d0", "--gateway", "127.0.0.1:1");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("hvctl: --disk attaches to the synthetic SCSI controller, which only a VM created with --hyperv has", r.SingleErrorLine());

        Result size = await RunAsync("disk", "create", "d0", "--size", "100", "--gateway", "127.0.0.1:1");
        Assert.Equal(2, size.ExitCode);
        Assert.Equal("hvctl: --size must be 1M to 2T in whole 512-byte sectors", size.SingleErrorLine());
    }

    [Fact]
    public async Task Run_with_a_missing_image_is_a_usage_error()
    {
        Result r = await RunAsync("run", "no/such/guest.elf");

        Assert.Equal(2, r.ExitCode);
        Assert.Equal("hvctl: image file 'no/such/guest.elf' not found: give the path of a guest image, for example guests/build/hello.elf", r.SingleErrorLine());
    }

    [Fact]
    public async Task Demo_refuses_a_gateway_because_it_brings_its_own_cluster()
    {
        Result r = await RunAsync("demo", "--gateway", "127.0.0.1:1");

        Assert.Equal(2, r.ExitCode);
        Assert.Equal("hvctl: demo starts its own cluster: drop --gateway", r.SingleErrorLine());
    }

    [Theory]
    [InlineData("nonsense")]
    [InlineData("host:notaport")]
    [InlineData("host:70000")]
    public async Task A_malformed_gateway_is_refused_with_the_expected_form(string gateway)
    {
        Result r = await RunAsync("vm", "list", "--gateway", gateway);

        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"hvctl: bad gateway '{gateway}': use HOST:PORT, for example localhost:30000", r.SingleErrorLine());
    }

    [Fact]
    public async Task An_unreachable_gateway_fails_within_the_timeout_with_one_line()
    {
        int port = UnusedPort();
        Result r = await RunAsync("vm", "list", "--gateway", $"127.0.0.1:{port}", "--connect-timeout", "2");

        Assert.Equal(1, r.ExitCode);
        Assert.Equal(
            $"hvctl: cannot reach gateway 127.0.0.1:{port}: is a silo running there? start one with: dotnet run --project src/Silo -- --host NAME --silo-port 11111 --gateway-port 30000",
            r.SingleErrorLine());
    }

    [Fact]
    public async Task A_bad_connect_timeout_is_a_usage_error()
    {
        Result r = await RunAsync("host", "list", "--connect-timeout", "-3");

        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("hvctl: bad --connect-timeout '-3'", r.SingleErrorLine());
    }

    [Theory]
    [InlineData("create")]
    [InlineData("show")]
    [InlineData("delete")]
    public async Task A_switch_command_without_its_name_is_a_usage_error(string command)
    {
        Result r = await RunAsync("switch", command, "--gateway", "127.0.0.1:1");

        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"hvctl: Required argument 'NAME' missing for command: '{command}'. (see 'hvctl switch {command} --help')", r.SingleErrorLine());
        Assert.Empty(r.Out);
    }

    [Fact]
    public async Task An_unknown_switch_command_or_an_extra_argument_is_a_usage_error_naming_it()
    {
        Result unknown = await RunAsync("switch", "frobnicate", "lan");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("frobnicate", unknown.SingleErrorLine());

        Result extra = await RunAsync("switch", "list", "lan");
        Assert.Equal(2, extra.ExitCode);
        Assert.Contains("'lan'", extra.SingleErrorLine());
    }

    [Theory]
    [InlineData("vm list")]
    [InlineData("vm show web")]
    [InlineData("vm bus web")]
    [InlineData("vm migrations")]
    [InlineData("host list")]
    [InlineData("disk list")]
    [InlineData("switch list")]
    [InlineData("switch show lan")]
    public async Task An_unknown_output_format_is_a_usage_error_on_one_line_before_connecting(string command)
    {
        Result r = await RunAsync([.. command.Split(' '), "-o", "xml", "--gateway", "127.0.0.1:1"]);

        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"hvctl: unknown output format 'xml': use table, json or yaml (see 'hvctl {command.Split(' ')[0]} {command.Split(' ')[1]} --help')", r.SingleErrorLine());
        Assert.Empty(r.Out);
    }

    [Theory]
    [InlineData("vm list --interval 5", "hvctl: --interval applies to --watch: add --watch, or drop --interval")]
    [InlineData("vm migrations --watch --interval 0", "hvctl: bad --interval '0': use a number of seconds between 0.1 and 3600")]
    [InlineData("vm list -w --interval 99999", "hvctl: bad --interval '99999': use a number of seconds between 0.1 and 3600")]
    public async Task A_bad_watch_interval_is_a_usage_error(string command, string message)
    {
        Result r = await RunAsync([.. command.Split(' '), "--gateway", "127.0.0.1:1"]);

        Assert.Equal((2, message), (r.ExitCode, r.SingleErrorLine()));
    }

    [Fact]
    public async Task Help_lists_the_commands_and_succeeds()
    {
        Result r = await RunAsync("--help");

        Assert.Equal(0, r.ExitCode);
        foreach (string command in new[] { "vm", "host", "disk", "switch", "run", "demo", "completion" })
            Assert.Contains(command, r.Out);
    }

    [Fact]
    public void Exceptions_map_to_exit_codes_and_single_lines()
    {
        Assert.Equal((2, "x"), HvctlApp.Classify(new UsageException("x")));
        Assert.Equal((1, "no VM named 'a'"), HvctlApp.Classify(new Actors.Grains.HypervisorException("no VM named 'a'")));
        Assert.Equal((1, "y"), HvctlApp.Classify(new AggregateException(new HypervisorClientException("y"))));
        Assert.Equal(130, HvctlApp.Classify(new OperationCanceledException()).Code);
        // Orleans' timeout names the waiting activation and dumps its queue; the user gets one short line.
        (int code, string? timeout) = HvctlApp.Classify(new TimeoutException("Response did not arrive on time in 00:00:30 for message: Request [S127.0.0.1:11111] ...\nActivation: [Activation: S127.0.0.1:11111/hwbackend/host-a]\n  Waiting: 3 messages"));
        Assert.Equal(1, code);
        Assert.NotNull(timeout);
        Assert.DoesNotContain("Activation", timeout);
        Assert.DoesNotContain('\n', timeout);
        Assert.Equal("a b", HvctlApp.OneLine("a\r\n  b\n"));
    }

    private static int UnusedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static async Task<Result> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var io = new HvctlIo(new MemoryStream(), new MemoryStream(), output, error);
        int code = await HvctlApp.RunAsync(args, io);
        return new Result(code, output.ToString(), error.ToString());
    }

    private sealed record Result(int ExitCode, string Out, string Error)
    {
        public string SingleErrorLine()
        {
            string[] lines = Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.Single(lines);
            return lines[0];
        }
    }

    private sealed class TempImage : IDisposable
    {
        public TempImage()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"hvctl-test-{Guid.NewGuid():N}.elf");
            File.WriteAllBytes(Path, [0x7f, (byte)'E', (byte)'L', (byte)'F']);
        }

        public string Path { get; }

        public void Dispose() => File.Delete(Path);
    }
}
