/**
 * FunctionFile of manifest.xml (DesktopFormFactor requires one). Outport's only command opens the
 * task pane (Action ShowTaskpane), so no function is registered; the page just initializes Office.
 */
import { startOffice } from '../office/office';

void startOffice();
