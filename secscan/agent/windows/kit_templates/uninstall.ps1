<#
  secscan: remove the agent that install.ps1 set up on this PC.

  Run as administrator:
    powershell.exe -NoProfile -ExecutionPolicy Bypass -File uninstall.ps1
  It removes the Task Scheduler task "secscan agent" and the folder %ProgramData%\secscan (the
  scripts, the configuration, the token, the log and any captures still waiting in the spool, which
  are then lost: it says how many). Nothing else on the PC was changed by secscan.

  Exit codes: 0 removed (or nothing was installed), 1 not administrator, 3 something could not be
  removed (the line says what).
#>
param()

$ErrorActionPreference = 'Stop'
$TaskName = 'secscan agent'
$State = [System.IO.Path]::Combine([System.Environment]::GetFolderPath('CommonApplicationData'), 'secscan')
$Code = 0

function Say([string]$Text) {
  [Console]::Out.WriteLine('secscan uninstall: ' + $Text)
}

function Get-Message($Exception) {
  $e = $Exception
  while ($null -ne $e.InnerException -and $e -is [System.Management.Automation.RuntimeException]) { $e = $e.InnerException }
  return ([string]$e.Message).Trim()
}

$identity = [System.Security.Principal.WindowsIdentity]::GetCurrent()
$principal = New-Object System.Security.Principal.WindowsPrincipal($identity)
if (-not $principal.IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator)) {
  [Console]::Error.WriteLine('secscan uninstall: needs administrator rights: right-click Windows PowerShell, "Run as administrator", and run uninstall.ps1 again')
  exit 1
}

# The task, through the Task Scheduler COM object (works from Windows 7 on).
try {
  $scheduler = New-Object -ComObject 'Schedule.Service'
  $scheduler.Connect()
  $root = $scheduler.GetFolder('\')
  $task = $null
  try { $task = $root.GetTask($TaskName) } catch { $task = $null }
  if ($null -ne $task) {
    # 4 = running: stop it first, so its files are not in use.
    if ($task.State -eq 4) { $null = $task.Stop(0) }
    $null = $root.DeleteTask($TaskName, 0)
    Say ('removed the task "' + $TaskName + '"')
  } else {
    Say ('no task "' + $TaskName + '" (already removed)')
  }
} catch {
  Say ('could not remove the task "' + $TaskName + '": ' + (Get-Message $_.Exception))
  $Code = 3
}

# The folder. A link is removed as a link; .NET's recursive delete does not follow links inside.
try {
  if ([System.IO.Directory]::Exists($State)) {
    $attributes = [System.IO.File]::GetAttributes($State)
    if (($attributes -band [System.IO.FileAttributes]::ReparsePoint) -ne 0) {
      [System.IO.Directory]::Delete($State, $false)
      Say ('removed the link ' + $State + ' (not what install.ps1 makes; its target was left alone)')
    } else {
      $waiting = 0
      $spool = [System.IO.Path]::Combine($State, 'spool')
      if ([System.IO.Directory]::Exists($spool)) { $waiting = @([System.IO.Directory]::GetFiles($spool, '*.secscan')).Count }
      [System.IO.Directory]::Delete($State, $true)
      Say ('removed ' + $State + ' (collect.ps1, secscan.json, token.txt, the log and ' + $waiting + ' capture(s) not yet delivered)')
    }
  } else {
    Say ('no folder ' + $State + ' (already removed)')
  }
} catch {
  Say ('could not remove ' + $State + ': ' + (Get-Message $_.Exception))
  $Code = 3
}
exit $Code
