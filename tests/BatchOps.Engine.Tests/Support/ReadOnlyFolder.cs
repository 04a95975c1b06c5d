using System.Diagnostics;

namespace BatchOps.Engine.Tests.Support;

/// <summary>
/// Makes a folder read-only for the current user, even for root (who ignores permission bits): with
/// chmod 0555, plus chattr +i when running as root. Fails the test when the folder stays writable, rather
/// than passing without having tested anything.
/// </summary>
public static class ReadOnlyFolder
{
    public static void Make(string path)
    {
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        if (Environment.UserName == "root")
        {
            Run("chattr", "+i", path);
        }

        var probe = System.IO.Path.Combine(path, ".probe");
        try
        {
            File.WriteAllText(probe, "x");
            File.Delete(probe);
            Assert.Fail($"Could not make '{path}' read-only on this machine (chmod 0555 and chattr +i had no effect), so the read-only store case cannot be tested here.");
        }
        catch (UnauthorizedAccessException)
        {
        }
        catch (IOException)
        {
        }
    }

    public static void Release(string path)
    {
        foreach (var folder in Directory.EnumerateDirectories(path, "*", SearchOption.AllDirectories).Prepend(path))
        {
            if (Environment.UserName == "root")
            {
                Run("chattr", "-i", folder, quiet: true);
            }

            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static void Run(string command, string flag, string path, bool quiet = false)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(command, [flag, path]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            process.WaitForExit();
        }
        catch (System.ComponentModel.Win32Exception) when (quiet)
        {
        }
    }
}
